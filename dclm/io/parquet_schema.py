"""The Parquet schema of a shard, inferred from its rows one batch at a time.

Recipe steps add signal columns, so a shard's schema is only known from its
rows. Inferring it per batch and merging keeps memory flat: a writer never
needs more than one batch in hand. The merged result is the schema the whole
shard's rows would give at once:

* the core columns (DESIGN §4) first, then every other key in first-seen order;
* a column whose values so far are all ``None`` has no type yet (``null``); it
  becomes ``string`` only when the shard is complete and still says nothing;
* ints and floats in one column make a float column;
* a dict-valued column (``metadata``, DCLM's ``{"en": 0.93}`` language score)
  is stored as a JSON string, and the schema's ``dclm.json_columns`` metadata
  names it so that our readers give the dict back. Not an Arrow ``map`` or
  ``struct``: their keys vary from row to row, and HF ``datasets`` cannot
  load a ``map`` column at all.
"""
from __future__ import annotations

import json
from typing import Any, Optional

import pyarrow as pa

JSON_COLUMNS_KEY = b"dclm.json_columns"


def with_json_columns(schema: pa.Schema, names) -> pa.Schema:
    """``schema`` whose metadata names ``names`` (sorted, comma-separated) as JSON-encoded columns."""
    names = sorted(set(names))
    metadata = dict(schema.metadata or {})
    metadata.pop(JSON_COLUMNS_KEY, None)
    if names:
        metadata[JSON_COLUMNS_KEY] = ",".join(names).encode()
    return schema.with_metadata(metadata or None)


def json_columns(schema: pa.Schema) -> set[str]:
    """The columns ``schema`` stores as JSON strings of dicts."""
    raw = (schema.metadata or {}).get(JSON_COLUMNS_KEY)
    return set(raw.decode().split(",")) if raw else set()


CORE_SCHEMA = with_json_columns(pa.schema([
    ("id", pa.string()),
    ("url", pa.string()),
    ("text", pa.string()),
    ("source", pa.string()),
    ("date", pa.string()),
    ("metadata", pa.string()),
]), ["metadata"])
CORE_COLUMNS = tuple(CORE_SCHEMA.names)


def encode_json(value: Any) -> Optional[str]:
    """A dict as stored in a JSON column (key order kept, so equal rows give equal bytes)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def infer_type(values: list[Any]) -> pa.DataType:
    """The Arrow type of one column's values; ``null`` when nothing is known yet."""
    sample = next((v for v in values if v is not None), None)
    if sample is None:
        return pa.null()
    if isinstance(sample, dict):
        return pa.string()
    if isinstance(sample, bool):
        return pa.bool_()
    if isinstance(sample, int):
        return pa.float64() if any(isinstance(v, float) for v in values) else pa.int64()
    if isinstance(sample, float):
        return pa.float64()
    return pa.array(values).type


def merge_types(old: pa.DataType, new: pa.DataType, column: str) -> pa.DataType:
    """One type that holds the values of both; ValueError naming the column when none does."""
    if old == new:
        return old
    if pa.types.is_null(old):
        return new
    if pa.types.is_null(new):
        return old
    numeric = (pa.types.is_integer, pa.types.is_floating)
    if any(f(old) for f in numeric) and any(f(new) for f in numeric):
        return pa.float64()
    try:
        unified = pa.unify_schemas([pa.schema([(column, old)]), pa.schema([(column, new)])],
                                   promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"dclm/io/parquet_schema.py: column {column!r} holds {old} in earlier rows "
                         f"and {new} in later ones") from exc
    return unified.field(column).type


def batch_schema(rows: list[dict[str, Any]], base: Optional[pa.Schema] = None) -> pa.Schema:
    """``base`` (default: the core columns) extended by the rows' keys, types merged, nulls kept."""
    base = base if base is not None else CORE_SCHEMA
    order: dict[str, None] = dict.fromkeys(base.names)
    for row in rows:
        for key in row:
            order.setdefault(key)
    fields = []
    encoded = json_columns(base)
    for name in order:
        known = base.field(name).type if name in base.names else pa.null()
        if name in CORE_COLUMNS and name in CORE_SCHEMA.names and known == CORE_SCHEMA.field(name).type:
            fields.append(pa.field(name, known))
            continue
        values = [row.get(name) for row in rows]
        if any(isinstance(v, dict) for v in values):
            encoded.add(name)
        found = infer_type(values)
        fields.append(pa.field(name, merge_types(known, found, name)))
    return with_json_columns(pa.schema(fields, metadata=base.metadata), encoded)


def _settle(dtype: pa.DataType) -> pa.DataType:
    if pa.types.is_null(dtype):
        return pa.string()
    if pa.types.is_list(dtype):
        return pa.list_(_settle(dtype.value_type))
    return dtype


def settle(schema: pa.Schema) -> pa.Schema:
    """The schema to write: columns still without a type are stored as strings."""
    return pa.schema([pa.field(f.name, _settle(f.type)) for f in schema], metadata=schema.metadata)


def schema_for(rows: list[dict[str, Any]]) -> pa.Schema:
    """Core columns first, then every other key in first-seen order, typed from all rows."""
    return settle(batch_schema(rows))


def to_arrow_value(value: Any, dtype: pa.DataType) -> Any:
    if isinstance(value, dict) and pa.types.is_string(dtype):
        return encode_json(value)
    return value


def rows_to_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    unknown = {key for row in rows for key in row} - set(schema.names)
    if unknown:
        raise ValueError(f"rows carry columns the shard's schema lacks: {sorted(unknown)}")
    columns = []
    for fld in schema:
        values = [to_arrow_value(row.get(fld.name), fld.type) for row in rows]
        try:
            columns.append(pa.array(values, type=fld.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ValueError(f"column {fld.name!r}: values do not fit {fld.type}: {exc}") from exc
    return pa.Table.from_arrays(columns, schema=schema)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns: missing ones are nulls, the rest cast (no data changes)."""
    columns = []
    for fld in schema:
        if fld.name in table.column_names:
            columns.append(table.column(fld.name).cast(fld.type))
        else:
            columns.append(pa.nulls(table.num_rows, fld.type))
    return pa.Table.from_arrays(columns, schema=schema)
