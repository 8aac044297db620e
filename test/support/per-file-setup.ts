// Placeholder replaced by the emulator harness (per-file reset) in this same issue.
export {};
