"""Organisation guardrails: rules a team writes in its configuration as CEL conditions over the
request (and, with ``--live``, over what preflight already reads of the account).

    [[tool.preflight.guardrail]]
    id = "ORG001"
    message = "instance types must be on the approved list"
    severity = "error"                       # default error
    operations = ["create-cluster", "update-cluster"]   # default: every operation whose request has
                                                        # the members the condition reads
    condition = 'request.InstanceGroups.all(g, g.InstanceType in ["ml.c5.2xlarge"])'
    live = false                             # true: needs --live (reads images, keys)

A finding is reported when the condition is false, or when it cannot be evaluated on the request
(a member it reads is absent: guard with ``has(request.Member)``). It points at the first request
member the condition reads; for a condition ``request.X.all(v, ...)``, at each item of X the
inner condition fails on (at the first member of the item it reads). Conditions are parsed and
evaluated by preflight.cel where it decides, and by cel-python (imported then) everywhere else.
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache, partial

from preflight import cel, schema
from preflight.pointers import escape, value_at
from preflight.config import Config, ConfigError
from preflight.findings import Severity
from preflight.operations import OPERATIONS
from preflight.pointers import escape, value_at
from preflight.registry import Rule

ID = re.compile(r"[A-Z][A-Z0-9]*-?[0-9]+")
# What cel-python's Environment sets; set whether or not it is created, so that a deep condition
# is checked and judged alike by preflight.cel and by cel-python.
CEL_RECURSION_LIMIT = 2500
# The variables a condition may name; the live facts exist only with --live.
OFFLINE_VARIABLES = ("request", "operation", "region")
LIVE_VARIABLES = ("images", "keys")


class Program:
    """A condition, or the predicate of its ``request.X.all(v, p)`` (the node at ``path`` in its
    tree), ready to judge JSON variables: by preflight.cel where it decides, else by cel-python."""

    def __init__(self, condition: str, tree: cel.Node, path: tuple[int, ...] = ()):
        self.condition, self.tree, self.path = condition, tree, path
        self._celpy = None

    def problem(self, variables: dict) -> str | None:
        """None when the condition holds; "" when it is false; else why it has no true/false value."""
        try:
            return None if cel.evaluate(self.tree, variables) else ""
        except cel.Unsupported:
            import celpy

            try:
                activation = {name: celpy.json_to_cel(value) for name, value in variables.items()}
            except ValueError as err:  # an int beyond CEL's int64, which cel-python refuses to hold
                return f"the condition could not be evaluated on this request: a value CEL cannot hold: {err}"
            return _problem(self._celpy_program(), activation)

    def predicate(self, path: tuple[int, ...]) -> "Program":
        node = self.tree
        for index in path:
            node = node.children[index]
        return Program(self.condition, node, self.path + path)

    def _celpy_program(self):
        if self._celpy is None:
            tree = _celpy_tree(self.condition)
            for index in self.path:
                tree = tree.children[index]
            self._celpy = _environment().program(tree, functions={"sum": _sum})
        return self._celpy


@cache
def _environment():
    """cel-python's environment: importing it and building its parser is most of a slow run."""
    import celpy

    return celpy.Environment()


@cache
def _celpy_tree(condition: str):
    return _environment().compile(condition)


class Guardrail:
    def __init__(self, id: str, message: str, severity: Severity, operations: tuple[str, ...],
                 condition: str, live: bool, program: Program, pointer: str, region: str, each=None):
        self.id, self.message, self.severity = id, message, severity
        self.operations, self.condition, self.live, self.program = operations, condition, live, program
        self.pointer = pointer  # where findings point: the first request member the condition reads
        self.region = region  # the configuration's region, for a check without --live
        self.each = each  # for `request.X.all(v, p)`: (pointer of X, v, p's program, p's first member of v)


def compile_all(config: Config) -> dict[str, Rule]:
    """Each guardrail of the configuration as a rule the engine runs; a guardrail that does not
    compile, or reads a member the request does not have, is a usage error naming it."""
    if not config.guardrails:
        return {}
    import importlib.util  # cel-python is found here and imported only for what preflight.cel leaves to it

    if importlib.util.find_spec("celpy") is None:
        raise ConfigError(f"{config.path}: guardrails need the CEL implementation (cel-python): "
                          "pip install 'hyperpod-preflight[guardrails]' (pre-commit: the preflight-guardrails hook)")
    sys.setrecursionlimit(CEL_RECURSION_LIMIT)
    rules: dict[str, Rule] = {}
    for index, entry in enumerate(config.guardrails):
        where = f"{config.path}: guardrail[{index}]"
        guardrail_id = entry.get("id")
        if not isinstance(guardrail_id, str) or not ID.fullmatch(guardrail_id) or guardrail_id.startswith("PF"):
            raise ConfigError(f"{where}.id: expected an id such as ORG001 (capitals and digits, not PF...), "
                              f"got {guardrail_id!r}")
        where = f"{config.path}: guardrail {guardrail_id}"
        if guardrail_id in rules:
            raise ConfigError(f"{where}: a second guardrail with this id")
        message, condition = entry.get("message"), entry.get("condition")
        for key, value in (("message", message), ("condition", condition)):
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}.{key}: required, a non-empty string")
        severity = entry.get("severity", "error")
        if severity not in ("error", "warning", "info"):
            raise ConfigError(f"{where}.severity: {severity!r} is not one of error, warning, info")
        operations = entry.get("operations")
        if operations is not None and (not isinstance(operations, list) or not operations
                                       or not all(isinstance(o, str) and o in OPERATIONS for o in operations)):
            raise ConfigError(f"{where}.operations: expected a list of operations ({', '.join(OPERATIONS)})")
        live = entry.get("live", False)
        if not isinstance(live, bool):
            raise ConfigError(f"{where}.live: expected true or false")
        tree = _tree(condition, f"{where}.condition")
        variables = OFFLINE_VARIABLES + (LIVE_VARIABLES if live else ())
        try:
            operations = _operations(tree, operations, variables, f"{where}.condition")
        except RecursionError:
            raise ConfigError(f"{where}.condition: nested too deeply to check") from None
        program = Program(condition, tree)
        guardrail = Guardrail(guardrail_id, message, Severity.parse(severity), operations, condition,
                              live, program, _first_member(tree), config.region or "", _each(program))
        check = partial(_check, guardrail)
        check.__doc__ = f"{message.rstrip('.')}.\n\nCondition (CEL): {condition}"
        rules[guardrail_id] = Rule(guardrail_id, guardrail_id.lower(), guardrail.severity,
                                   "live" if live else "request", guardrail.operations, check,
                                   required=live)
    return rules


def _tree(condition: str, where: str) -> cel.Node:
    """The condition's parse tree: preflight.cel's, or cel-python's where it is outside that part
    (a condition that does not compile is a usage error with cel-python's reason)."""
    try:
        return cel.parse(condition)
    except cel.Unsupported:
        pass
    import celpy

    try:
        tree = _celpy_tree(condition)
    except (celpy.CELParseError, RecursionError) as err:
        detail = " ".join(str(err).split())
        raise ConfigError(f"{where} does not compile: {detail}") from None
    return cel.from_lark(tree)


def _check(guardrail: Guardrail, ctx):
    request = json.loads(json.dumps(ctx.request, default=str))  # YAML dates and the like, as JSON has them
    variables = {"request": request, "operation": ctx.operation,
                 "region": getattr(ctx.account, "region", None) or guardrail.region}
    if guardrail.live:
        variables.update(_live_facts(ctx))
    steps = cel.cost(guardrail.program.tree, variables)  # bounds the item-by-item judgement below too
    if steps > cel.COST_BUDGET:
        return [ctx.finding(guardrail.pointer, f"{guardrail.message} (the condition was not evaluated on this "
                            f"request: it could take {steps:.1e} steps, more than its budget of "
                            f"{cel.COST_BUDGET:,}; its macros nest over lists this long)")]
    problem = guardrail.program.problem(variables)
    if problem is None:
        return []
    items = value_at(request, guardrail.each[0]) if guardrail.each else None
    if isinstance(items, list):  # `request.X.all(v, p)`: point at each item p does not hold for
        pointer, variable, predicate, member = guardrail.each
        found = [ctx.finding(f"{pointer}/{index}{member}", guardrail.message + (f" ({said})" if said else ""))
                 for index, item in enumerate(items)
                 if (said := predicate.problem({**variables, variable: item})) is not None]
        if found:
            return found
    return [ctx.finding(guardrail.pointer, guardrail.message + (f" ({problem})" if problem else ""))]


def _problem(program, activation) -> str | None:
    """None when the condition holds; "" when it is false; else why it has no true/false value."""
    import celpy

    try:
        result = program.evaluate(activation)
        if isinstance(result, celpy.CELEvalError):
            raise result
    except (celpy.CELEvalError, RecursionError, TypeError, ValueError) as err:
        detail = err.args[0] if isinstance(err, celpy.CELEvalError) and err.args else err
        return f"the condition could not be evaluated on this request: {detail}"
    if result is True or (isinstance(result, celpy.celtypes.BoolType) and bool(result)):
        return None
    if not isinstance(result, celpy.celtypes.BoolType):
        return f"the condition gave {result!r}, not true or false"
    return ""


def _sum(values):
    """``sum(list)``: CEL has no sum, and a cluster-wide instance limit needs one."""
    from celpy import celtypes

    total = celtypes.IntType(0)
    for value in values:
        total = total + value
    return total


def _live_facts(ctx) -> dict:
    """What the live checks already read (the account memoises it): each custom AMI's owner, tags
    and state, and each volume key's manager and state; absent ones are left out."""
    images = ctx.account.images(sorted(ctx.custom_images())) if ctx.custom_images() else {}
    keys = {}
    for pointer, group in ctx.instance_groups():
        for _, config in ctx.ebs_configs(pointer, group):
            reference = config.get("VolumeKmsKeyId")
            if isinstance(reference, str) and reference and reference not in keys:
                keys[reference] = ctx.account.key(reference)
    return {
        "images": {i: {"owner": image.owner, "tags": image.tags, "state": image.state}
                   for i, image in images.items() if image is not None},
        "keys": {r: {"arn": key.arn, "manager": key.manager, "state": key.state}
                 for r, key in keys.items() if key is not None},
    }


def _operations(tree, named: list[str] | None, variables: tuple[str, ...], where: str) -> tuple[str, ...]:
    """The operations a condition applies to: each named one must have every request member the
    condition reads (else a usage error naming the member); without names, every operation whose
    request has them (a condition on InstanceGroups does not apply to delete-cluster)."""
    problems = {operation: _Walker(schema.load(operation), variables).first_problem(tree)
                for operation in (named or OPERATIONS)}
    applicable = tuple(operation for operation, problem in problems.items() if problem is None)
    wrong = [(operation, problem) for operation, problem in problems.items() if problem is not None]
    if wrong and (named or not applicable):
        operation, problem = wrong[0]
        if problem.startswith("unknown variable"):
            raise ConfigError(f"{where}: {problem}")
        raise ConfigError(f"{where}: {problem}, per the {operation} request schema from botocore "
                          f"{schema.source()['botocore']} (if the member is new, refresh the schemas)")
    return applicable


def _members(node, root: str) -> list[str] | None:
    """The members ``node`` selects one after another from the variable ``root``
    (``request.InstanceGroups`` -> ["InstanceGroups"]), or None when it is not such a chain."""
    if isinstance(node, cel.Node) and node.data == "member_dot":
        base = _members(node.children[0], root)
        return None if base is None else base + [str(node.children[1])]
    if isinstance(node, cel.Node) and node.data == "ident":
        return [] if str(node.children[0]) == root else None
    if isinstance(node, cel.Node) and len(node.children) == 1:
        return _members(node.children[0], root)
    return None


def _first_member(tree, root: str = "request") -> str:
    """The JSON pointer of the first member of ``root`` a condition reads, as far as it names one
    object member after another (``request.InstanceGroups.all(...)`` -> ``/InstanceGroups``)."""
    for node in tree.iter_subtrees_topdown():
        if node.data == "member_dot":
            members = _members(node, root)
            if members:
                return "".join(f"/{escape(m)}" for m in members)
    return ""


def _each(program: Program):
    """For a condition that is ``request.X.all(v, p)``: (pointer of X, v, p's program, the first
    member of v that p reads), so that findings name the items p does not hold for; else None."""
    node, depth = program.tree, 0
    while isinstance(node, cel.Node) and len(node.children) == 1 and node.data != "member_dot_arg":
        node, depth = node.children[0], depth + 1
    if not (isinstance(node, cel.Node) and node.data == "member_dot_arg" and str(node.children[1]) == "all"
            and len(node.children) > 2 and isinstance(node.children[2], cel.Node)
            and len(node.children[2].children) == 2):
        return None
    members = _members(node.children[0], "request")
    variable, predicate = cel.bound_name(node.children[2].children[0]), node.children[2].children[1]
    if not members or not variable:
        return None
    return ("".join(f"/{escape(m)}" for m in members), variable, program.predicate((0,) * depth + (2, 1)),
            _first_member(predicate, variable))


class _Problem(Exception):
    pass


class _Walker:
    """Follows member selections through the request's JSON Schema, binding the variables of
    the comprehension macros (``all``, ``exists``, ``map``...) to their list's items."""

    def __init__(self, schema: dict, variables: tuple[str, ...]):
        self.defs = schema.get("$defs", {})
        self.root = schema
        self.variables = variables

    def first_problem(self, tree) -> str | None:
        try:
            self.visit(tree, {"request": ("request", self.resolve(self.root))})
        except _Problem as problem:
            return str(problem)
        return None

    def resolve(self, schema):
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 50:
            schema = self.defs.get(schema["$ref"].rpartition("/")[2], {})
            seen += 1
        return schema

    def member(self, base, name: str):
        if base is None:
            return None
        path, schema = base
        if not isinstance(schema, dict) or schema.get("type") != "object":
            raise _Problem(f"`{path}.{name}`: {path} is not an object with members")
        properties = schema.get("properties", {})
        if name in properties:
            return f"{path}.{name}", self.resolve(properties[name])
        if schema.get("additionalProperties") is False:
            raise _Problem(f"`{path}.{name}`: no member {name!r} in {path} "
                           f"(members: {', '.join(sorted(properties))})")
        return None

    def items(self, base):
        if base is None:
            return None
        path, schema = base
        if isinstance(schema, dict) and schema.get("type") == "array":
            return f"{path}[]", self.resolve(schema.get("items", {}))
        return None

    def visit(self, node, scope):
        if not isinstance(node, cel.Node):
            return None
        kind, children = node.data, node.children
        if kind == "member_dot":
            return self.member(self.visit(children[0], scope), str(children[1]))
        if kind == "member_dot_arg":
            base = self.visit(children[0], scope)
            method = str(children[1])
            arguments = children[2].children if len(children) > 2 and isinstance(children[2], cel.Node) else []
            variable = cel.bound_name(arguments[0]) if arguments else None
            if method in cel.MACROS and variable and len(arguments) >= 2:
                inner = {**scope, variable: self.items(base)}
                for argument in arguments[1:]:
                    self.visit(argument, inner)
                return base if method == "filter" else None
            for argument in arguments:
                self.visit(argument, scope)
            return None
        if kind == "member_index":
            base = self.visit(children[0], scope)
            self.visit(children[1], scope)
            return self.items(base)
        if kind == "ident":
            name = str(children[0])
            if name in scope:
                return scope[name]
            if name not in self.variables:
                raise _Problem(f"unknown variable {name!r} (known: {', '.join(self.variables)})")
            return None
        if kind == "ident_arg":  # a function call: has(), size()...
            for child in children[1:]:
                self.visit(child, scope)
            return None
        results = [self.visit(child, scope) for child in children if isinstance(child, cel.Node)]
        return results[0] if len(results) == 1 and len(children) == 1 else None
