"""Schemathesis hooks for the fuzz run of tests/fuzz/run.sh.

Schemathesis's `positive_data_acceptance` fails every request that fits the OpenAPI
document but is rejected. Some of this API's rules cannot be written in JSON Schema at
all, because they depend on data the server holds or compare two values. For those
the document says in words what is rejected, and the server answers 400, 412 or 422
with an `errors` entry naming the field. `schemathesis.toml` lets
`positive_data_acceptance` accept these statuses, and the check below takes its place
for them: a schema-valid request may be rejected only for one of the rules listed
here, each with the reason the schema cannot state it. Anything else fails the run.

A request with `fields=` is answered with items holding only the fields selected, which
the item schemas' `required` lists do not allow for. `filter_failure` checks such an
answer against the schemas as `sparse_spec` adapts them (the rule of
tests/api/openapi_contract.rs) and drops the failure only when the answer fits them.
"""

import copy
import re
import sys

import jsonschema_rs
import schemathesis
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.openapi.checks import JsonSchemaError
from schemathesis.core.parameters import ParameterLocation

# (operations, field, message, why no schema can state the rule)
RULES = [
    (r".*", r"cursor|since", r"is not a cursor this (API|feed) issued",
     "cursors are opaque tokens that only the server issues"),
    (r".*", r"to", r"is before from",
     "JSON Schema cannot compare two parameters"),
    (r"GET /v1/changes", r"since", r"names the same as cursor",
     "OpenAPI cannot make two query parameters exclusive of each other"),
    (r"GET /v1/statements/compare", r"b", r"is the same statement as a; compare two different ones",
     "JSON Schema cannot compare two parameters"),
    (r"GET /v1/statements", r"country_role", r"give country too",
     "OpenAPI cannot make one query parameter require another"),
    (r"GET .*", r"sort", r"relevance needs a search term in q",
     "OpenAPI cannot make one query parameter require another"),
    (r"POST /v1/statements", r"signatories\[\d+\]\.country", r"is listed twice",
     "codes are compared after case and spaces are normalised, which uniqueItems cannot do"),
    (r".*", r".*", r'is not a known (topic|country code)',
     "a reference must name a record that exists"),
    (r"PATCH .*", r"id|slug|code", r"cannot be changed by a patch",
     "the body may repeat the path's own id, and only that one"),
    (r".*", r"(signatories\[\d+\]\.)?role", r"a (vote|letter or statement) takes",
     "the role must fit the statement's kind, which is stored or given elsewhere"),
    (r".*", r"(signatories\[\d+\]\.)?(joined_on|withdrawn_on)", r"is before",
     "dates are compared with each other and with the statement's date"),
    (r"PATCH /v1/statements/\{id\}", r"issued_on", r"no longer fits the statement's date or kind",
     "a statement's new date or kind must fit the participations recorded"),
    (r"PATCH /v1/statements/\{id\}", r"stance", r"is required for a letter or statement",
     "whether a stance is required depends on the kind already stored"),
    (r"PATCH /v1/countries/\{code\}", r"un_observer", r"a UN member is not also an observer",
     "the patch is combined with the membership already stored"),
    (r"PATCH /v1/countries/\{code\}", r"successor_code", r"only a country that ended",
     "the patch is combined with the end date already stored"),
    (r"GET .*", r"fields", r"names no such CSV column",
     "a CSV answer's columns have names of their own, and whether the answer is CSV "
     "depends on `format` or `Accept`, which OpenAPI cannot tie to this parameter's values"),
]


def _explained(operation, error):
    return any(
        re.fullmatch(ops, operation)
        and re.fullmatch(field, error.get("field", ""))
        and re.search(message, error.get("message", ""))
        for ops, field, message, _ in RULES
    )


@schemathesis.check
def rejected_only_for_rules_no_schema_can_state(ctx, response, case):
    """A schema-valid request answered 400, 412 or 422 broke one of RULES."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    status = response.status_code
    if status == 412:
        sent = {name.lower() for name in response.request.headers}
        if not sent & {"if-match", "if-none-match"}:
            raise AssertionError("412 Precondition Failed without a precondition header")
        return None
    if status not in (400, 422):
        return None
    operation = f"{case.method.upper()} {case.path}"
    errors = response.json().get("errors") or []
    unexplained = [e for e in errors if not _explained(operation, e)]
    if not errors or unexplained:
        raise AssertionError(
            f"Schema-valid request rejected with {status} for a reason the OpenAPI "
            f"document could state: {unexplained or response.text}"
        )
    return None


def _follow(spec, value):
    reference = value.get("$ref") if isinstance(value, dict) else None
    if reference is None:
        return value
    target = spec
    for part in reference.lstrip("#/").split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return _follow(spec, target)


def sparse_spec(spec, operation, selected):
    """The spec as a request selecting `selected` sees it: each schema whose properties
    are exactly the names the operation's `fields` parameter allows (its item) requires
    the selected ones and forbids the others; those present still match their schemas."""
    parameters = [_follow(spec, p) for p in operation.get("parameters", [])]
    allowed = next(p["schema"]["items"]["enum"] for p in parameters if p.get("name") == "fields")
    spec = copy.deepcopy(spec)
    items = 0
    for schema in spec["components"]["schemas"].values():
        properties = schema.get("properties")
        if not isinstance(properties, dict) or set(properties) != set(allowed):
            continue
        for name in properties:
            if name not in selected:
                properties[name] = False
        schema["required"] = list(selected)
        items += 1
    if not items:
        raise AssertionError(f"no schema has exactly the properties {allowed} that fields allows")
    return spec


def _selected_fields(case):
    value = (case.query or {}).get("fields")
    if value is None:
        return None
    names = value if isinstance(value, list) else str(value).split(",")
    return [str(name) for name in names]


def _fits_sparse_schemas(case, response, selected):
    """Whether a JSON answer to a request with `fields=` fits its schema as `sparse_spec` adapts it."""
    spec = case.operation.schema.raw_schema
    operation = spec["paths"][case.path][case.method.lower()]
    documented = _follow(spec, operation["responses"].get(str(response.status_code), {}))
    schema = documented.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return False
    root = dict(schema)
    root["components"] = sparse_spec(spec, operation, selected)["components"]
    validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
    return validator.is_valid(response.json())


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Judges a response violating its schema by the sparse rule when the request selected
    fields, and drops "schema-violating request accepted" when the request did not
    violate it."""
    if isinstance(failure, JsonSchemaError):
        selected = _selected_fields(case)
        return selected is None or not _fits_sparse_schemas(case, response, selected)
    return _keep_accepted_negative_data(failure, case)


def _keep_accepted_negative_data(failure, case):
    """Whether "schema-violating request accepted" is a finding.

    In the coverage phase Schemathesis 4.32 sends PATCH /v1/statements/{id} bodies that
    leave out `stance`, calling it required, which `StatementPatch` does not say (it
    has no required field). Whether the server then accepts depends on the data the
    run has written so far. Such a case is kept as a finding unless its body, the only
    part generated as invalid, satisfies the operation's own schema, formats included.
    """
    if not isinstance(failure, AcceptedNegativeData) or case.meta is None:
        return True
    others = [location for location in ParameterLocation if location is not ParameterLocation.BODY]
    if not case.meta.is_negative_at(ParameterLocation.BODY) or any(
        case.meta.is_negative_at(location) for location in others
    ):
        return True
    body = case.operation.get_body_for_media_type(case.media_type)
    if body is None:
        return True
    validator = jsonschema_rs.Draft202012Validator(body.optimized_schema, validate_formats=True)
    if not validator.is_valid(case.body):
        return True
    print(
        f"dropped a false finding: {case.method.upper()} {case.path} with a body that "
        f"satisfies its schema: {case.body!r}",
        file=sys.stderr,
    )
    return False
