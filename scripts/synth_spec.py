#!/usr/bin/env python3
"""Writes a synthetic OpenAPI 3.0.3 spec for benchmarking the code generator.

The spec stays inside what `users-api-codegen` accepts: snake_case
operationIds, path parameters only, JSON request bodies that are `$ref`s to
component schemas, one success and one error body per operation, every status the generated
router answers by itself documented (400, 401, 413, 415, 422), an
`ApiError` schema with the required `status`, `code` and `message`, security
only through an oauth2 scheme, and no `default` responses.

By default it has 300 operations (60 resources x 5 operations) and 500
component schemas. The output is deterministic for given arguments.

    python3 scripts/synth_spec.py --out target/bench/synth.yaml
    python3 scripts/synth_spec.py --operations 20 --schemas 40 --out small.yaml

Only the standard library is used; the YAML is emitted by hand.
"""

import argparse
import json
import random
import re
import sys

OPS_PER_RESOURCE = 5
SCHEMAS_PER_RESOURCE = 4  # Resource, ResourceInput, ResourceList, ResourceState


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def error_responses(codes):
    return {str(c): {"$ref": f"#/components/responses/E{c}"} for c in codes}


def json_content(schema):
    return {"application/json": {"schema": schema}}


def scalar_property(rng, i):
    kind = rng.choice(["string", "integer", "boolean", "number", "date-time", "uuid", "int64", "array"])
    if kind == "string":
        return {"type": "string", "description": f"Free text {i}."}
    if kind == "integer":
        return {"type": "integer", "format": "int32", "minimum": 0}
    if kind == "int64":
        return {"type": "integer", "format": "int64"}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "number":
        return {"type": "number", "format": "double"}
    if kind == "date-time":
        return {"type": "string", "format": "date-time"}
    if kind == "uuid":
        return {"type": "string", "format": "uuid"}
    return {"type": "array", "items": {"type": "string"}}


def shared_schema(rng, index, names, enums):
    """An object (or enum) that may refer to earlier shared schemas (a DAG)."""
    name = names[index]
    if name in enums:
        values = [f"VALUE_{index}_{k}" for k in range(rng.randint(2, 6))]
        return {"description": f"Synthetic enum {index}.", "type": "string", "enum": values}
    props = {}
    required = []
    for p in range(rng.randint(3, 9)):
        pname = f"field_{p}"
        earlier = [n for n in names[:index] if n not in enums] if index else []
        roll = rng.random()
        if earlier and roll < 0.25:
            props[pname] = ref(rng.choice(earlier[-40:]))
        elif earlier and roll < 0.35:
            props[pname] = {"type": "array", "items": ref(rng.choice(earlier[-40:]))}
        elif roll < 0.45 and index:
            enum_names = [n for n in names[:index] if n in enums]
            props[pname] = ref(rng.choice(enum_names)) if enum_names else scalar_property(rng, p)
        elif roll < 0.5:
            props[pname] = {"type": "object", "additionalProperties": {"type": "string"}}
        else:
            props[pname] = scalar_property(rng, p)
        if rng.random() < 0.4:
            required.append(pname)
    schema = {"description": f"Synthetic model {index}.", "type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


def build(operations, schemas, seed):
    rng = random.Random(seed)
    resources = max(1, operations // OPS_PER_RESOURCE)
    per_resource = resources * SCHEMAS_PER_RESOURCE
    shared_count = max(1, schemas - per_resource - 1)  # -1 for ApiError
    shared_names = [f"Shared{i:04d}" for i in range(shared_count)]
    enums = {n for i, n in enumerate(shared_names) if i % 7 == 3}

    components = {
        "ApiError": {
            "description": "Every error body.",
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer", "format": "int64"},
                "code": {"type": "string"},
                "message": {"type": "string"},
            },
        }
    }
    for i in range(shared_count):
        components[shared_names[i]] = shared_schema(rng, i, shared_names, enums)
    objects = [n for n in shared_names if n not in enums] or ["ApiError"]

    paths = {}
    op_count = 0
    for r in range(resources):
        base = f"Resource{r:03d}"
        state = f"{base}State"
        components[state] = {"type": "string", "enum": ["ACTIVE", "ARCHIVED", f"CUSTOM_{r}"]}
        fields = {
            "id": {"type": "string", "format": "uuid"},
            "name": {"type": "string"},
            "state": ref(state),
            "created": {"type": "string", "format": "date-time"},
            "detail": ref(rng.choice(objects)),
            "related": {"type": "array", "items": ref(rng.choice(objects))},
            "count": {"type": "integer", "format": "int64"},
        }
        components[base] = {
            "description": f"Resource {r}.",
            "type": "object",
            "required": ["id", "name", "state"],
            "properties": fields,
        }
        components[f"{base}Input"] = {
            "description": f"Fields to create or replace resource {r}.",
            "type": "object",
            "required": ["name"],
            "properties": {k: v for k, v in fields.items() if k not in ("id", "created")},
        }
        components[f"{base}List"] = {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref(base)}, "total": {"type": "integer"}},
        }
        snake = f"resource{r:03d}"
        coll = f"/resources{r:03d}"
        item = f"{coll}/{{{snake}_id}}"
        param = {
            "name": f"{snake}_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "format": "uuid"},
        }
        secured = [{"oauth": []}]
        ops = [
            (coll, "get", f"list_{snake}", None, f"{base}List", [401, 500]),
            (coll, "post", f"create_{snake}", f"{base}Input", base, [400, 401, 413, 415, 422, 500]),
            (item, "get", f"get_{snake}", None, base, [400, 401, 404, 500]),
            (item, "put", f"replace_{snake}", f"{base}Input", base, [400, 401, 404, 413, 415, 422, 500]),
            (item, "delete", f"delete_{snake}", None, f"{base}List", [400, 401, 404, 500]),
        ]
        for path, method, op_id, body, success, errors in ops:
            if op_count >= operations:
                break
            op_count += 1
            op = {
                "operationId": op_id,
                "summary": f"{method.upper()} {path}",
                "security": secured if r % 10 else [],
                "responses": {"200": {"description": "OK.", "content": json_content(ref(success))}},
            }
            op["responses"].update(error_responses(errors))
            if body:
                op["requestBody"] = {"required": True, "content": json_content(ref(body))}
            paths.setdefault(path, {})[method] = op
            if "{" in path and "parameters" not in paths[path]:
                paths[path]["parameters"] = [param]

    responses = {
        f"E{c}": {"description": f"Error {c}.", "content": json_content(ref("ApiError"))}
        for c in (400, 401, 404, 413, 415, 422, 500)
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Synthetic API", "version": "0.1.0", "description": "Generated by scripts/synth_spec.py."},
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": responses,
            "securitySchemes": {
                "oauth": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "https://auth.example.invalid/token",
                            "scopes": {"read": "Read access."},
                        }
                    },
                }
            },
        },
    }


def to_yaml(value, indent=0):
    """Block-style YAML; strings are JSON-quoted (valid YAML double-quoted scalars)."""
    pad = "  " * indent
    lines = []
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        for key, item in value.items():
            k = key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else json.dumps(key)
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{k}:")
                lines.extend(to_yaml(item, indent + 1))
            else:
                lines.append(f"{pad}{k}: {scalar(item)}")
    elif isinstance(value, list):
        if not value:
            return [pad + "[]"]
        for item in value:
            if isinstance(item, (dict, list)) and item:
                sub = to_yaml(item, indent + 1)
                lines.append(f"{pad}- {sub[0].lstrip()}")
                lines.extend(sub[1:])
            else:
                lines.append(f"{pad}- {scalar(item)}")
    else:
        lines.append(pad + scalar(value))
    return lines


def scalar(v):
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--operations", type=int, default=300)
    ap.add_argument("--schemas", type=int, default=500)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default="-", help="output file (default: stdout)")
    args = ap.parse_args()
    if args.operations < 1 or args.schemas < 2:
        ap.error("need at least 1 operation and 2 schemas")
    spec = build(args.operations, args.schemas, args.seed)
    text = "\n".join(to_yaml(spec)) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    ops = sum(1 for p in spec["paths"].values() for m in p if m != "parameters")
    print(f"synthetic spec: {ops} operations, {len(spec['components']['schemas'])} schemas", file=sys.stderr)


if __name__ == "__main__":
    main()
