#!/usr/bin/env python3
"""Derives src/core/ocsf/schema-1.1.0.json from an OCSF schema source tree.

Usage: python3 scripts/ocsf-schema.py <ocsf-schema checkout at tag v1.1.0> > src/core/ocsf/schema-1.1.0.json

Source: https://github.com/ocsf/ocsf-schema, tag v1.1.0, commit
8ea34523a316c4bad7e360e870a23a8e5cb29bd5 (version.json: 1.1.0). No npm
package carries the OCSF schema as JSON, so the JSON Schema the tests
validate against is derived here, for the classes src/core/ocsf/mapping.ts
emits, and committed with its provenance (docs/ocsf.md §Validation).

What it keeps from the OCSF definitions (events/*, objects/*, dictionary.json,
includes/*, profiles/*):
  - the attributes each class and object defines (class and object extension
    chains and $include files): additionalProperties false, so an attribute
    the class does not define is an error;
  - each attribute's type from the dictionary (string / integer for integer,
    long and timestamp types / number / boolean / object / array when
    is_array), objects by reference to their own derived schema;
  - `required` attributes (attributes a profile adds are required only when
    the profile is applied, so those are left optional), and each object's
    `at_least_one` constraints as anyOf;
  - class_uid, category_uid as constants; activity_id and type_uid from the
    class's activity enum; the dictionary enum of every other *_id attribute.
What it does not check: regex types (ip_t, email_t…), string lengths and
deprecations.
"""
import json
import os
import sys

ROOT = sys.argv[1]
CLASSES = [2004, 3001, 3002, 3004, 3005, 6001, 6002, 6003]


def load(p):
    with open(os.path.join(ROOT, p)) as f:
        return json.load(f)


dictionary = load('dictionary.json')
DICT = dictionary['attributes']
TYPES = dictionary['types']['attributes']
categories = load('categories.json')['attributes']

events = {}
for dirpath, _, files in os.walk(os.path.join(ROOT, 'events')):
    for fn in files:
        if fn.endswith('.json'):
            d = load(os.path.relpath(os.path.join(dirpath, fn), ROOT))
            events[d['name']] = d
objects = {}
for fn in os.listdir(os.path.join(ROOT, 'objects')):
    d = load(os.path.join('objects', fn))
    objects[d['name']] = d


def own_attributes(d):
    """(attributes, names added by profiles) of one definition, $include expanded."""
    out, from_profile = {}, set()
    for inc in d.get('attributes', {}).get('$include', []):
        attrs = load(inc).get('attributes', {})
        for k, v in attrs.items():
            out.setdefault(k, {}).update(v)
            if inc.startswith('profiles/'):
                from_profile.add(k)
    for k, v in d.get('attributes', {}).items():
        if k != '$include':
            out.setdefault(k, {}).update(v)
            # Defined by the class itself: its requirement stands, profile or not.
            from_profile.discard(k)
    return out, from_profile


def chain(table, name):
    out = []
    while name:
        d = table[name]
        out.append(d)
        name = d.get('extends')
        if name == 'object':
            break
    return list(reversed(out))


def merged(table, name):
    attrs, profile, constraints = {}, set(), []
    for d in chain(table, name):
        a, p = own_attributes(d)
        for k, v in a.items():
            attrs.setdefault(k, {}).update(v)
        profile = (profile - set(k for k in a if k not in p)) | p
        if d.get('constraints'):
            # A definition's constraints replace its parent's (OCSF's rule).
            constraints = [d['constraints']]
    return attrs, profile, constraints


def base_type(t):
    seen = set()
    while t in TYPES and 'type' in TYPES[t] and t not in seen:
        seen.add(t)
        t = TYPES[t]['type']
    return t


defs = {}


def attr_schema(name, local):
    d = dict(DICT.get(name, {}))
    d.update(local)
    # A class or object enum adds to (and re-captions) the dictionary's: 0 Unknown and 99 Other stay.
    if 'enum' in DICT.get(name, {}) or 'enum' in local:
        d['enum'] = {**DICT.get(name, {}).get('enum', {}), **local.get('enum', {})}
    t = d.get('type', 'string_t')
    if t == 'object':
        s = {'type': 'object'}
    elif t in objects:
        object_def(t)
        s = {'$ref': f'#/$defs/{t}'}
    else:
        bt = base_type(t)
        s = {
            'integer_t': {'type': 'integer'},
            'long_t': {'type': 'integer'},
            'timestamp_t': {'type': 'integer'},
            'port_t': {'type': 'integer'},
            'float_t': {'type': 'number'},
            'boolean_t': {'type': 'boolean'},
            'json_t': {},
        }.get(bt, {'type': 'string'})
        if bt == 'integer_t' and name.endswith('_id') and 'enum' in d:
            s = {'type': 'integer', 'enum': sorted(int(x) for x in d['enum'])}
    if d.get('is_array'):
        s = {'type': 'array', 'items': s}
    return s


def constraint_schema(constraints):
    out = []
    for c in constraints:
        if 'at_least_one' in c:
            out.append({'anyOf': [{'required': [k]} for k in c['at_least_one']]})
        if 'just_one' in c:
            out.append({'oneOf': [{'required': [k]} for k in c['just_one']]})
    return out


def object_def(name):
    if name in defs:
        return
    defs[name] = None  # placeholder: recursion
    attrs, profile, constraints = merged(objects, name)
    s = {
        'type': 'object',
        'properties': {k: attr_schema(k, v) for k, v in sorted(attrs.items())},
        'additionalProperties': False,
    }
    req = sorted(k for k, v in attrs.items() if v.get('requirement') == 'required' and k not in profile)
    if req:
        s['required'] = req
    cs = constraint_schema(constraints)
    if cs:
        s['allOf'] = cs
    defs[name] = s


classes = {}
for name, d in events.items():
    if d.get('uid') is None:
        continue
    ch = chain(events, name)
    cat = next((x['category'] for x in reversed(ch) if x.get('category')), None)
    uid = categories[cat]['uid'] * 1000 + d['uid']
    if uid not in CLASSES:
        continue
    attrs, profile, constraints = merged(events, name)
    props = {k: attr_schema(k, v) for k, v in sorted(attrs.items())}
    activities = sorted(int(x) for x in {**DICT['activity_id'].get('enum', {}), **attrs['activity_id']['enum']})
    props['class_uid'] = {'const': uid}
    props['category_uid'] = {'const': categories[cat]['uid']}
    props['activity_id'] = {'type': 'integer', 'enum': activities}
    props['type_uid'] = {'type': 'integer', 'enum': [uid * 100 + a for a in activities]}
    s = {
        '$schema': 'https://json-schema.org/draft/2020-12/schema',
        'title': d['caption'],
        'type': 'object',
        'properties': props,
        'additionalProperties': False,
        'required': sorted(
            k for k, v in attrs.items() if v.get('requirement') == 'required' and k not in profile
        ),
    }
    cs = constraint_schema(constraints)
    if cs:
        s['allOf'] = cs
    classes[str(uid)] = s

out = {
    '$comment': 'Derived by scripts/ocsf-schema.py from https://github.com/ocsf/ocsf-schema tag v1.1.0 '
    '(commit 8ea34523a316c4bad7e360e870a23a8e5cb29bd5). Do not edit; regenerate.',
    'version': load('version.json')['version'],
    'classes': {k: classes[k] for k in sorted(classes)},
    '$defs': {k: defs[k] for k in sorted(defs)},
}
json.dump(out, sys.stdout, indent=1, sort_keys=False)
sys.stdout.write('\n')
