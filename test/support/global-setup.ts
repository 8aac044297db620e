// Placeholder replaced by the emulator harness (moto + TSA) in this same issue.
export default async function setup(): Promise<void> {}
