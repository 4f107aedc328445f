"""CloudFormation templates (JSON, or YAML with the short-form tags): every
``AWS::SageMaker::Cluster`` is checked as the create-cluster request it becomes.

Intrinsic functions are resolved where the template alone decides them: ``Ref`` to a parameter
(its ``--parameter`` value, else its ``Default``), ``Fn::Sub``, ``Fn::Join``, ``Fn::Select``,
``Fn::Split``, ``Fn::FindInMap``, ``Fn::If`` on a condition that resolves, ``AWS::NoValue``.
Anything else (a resource's ``Ref`` or attribute, the account id, an import) is ``Unresolved``:
present and never checked.
"""

from __future__ import annotations

import re

from preflight.documents import Document, escape
from preflight.iac import DerivedDocument, matched_request
from preflight.values import Unresolved

CLUSTER = "AWS::SageMaker::Cluster"
GENERATED_NAME = Unresolved("(a name CloudFormation generates)")
OPERATION = "create-cluster"

# The YAML short forms of the intrinsic functions: !Ref, !Condition and !Fn-name.
SHORT_FORMS = ("Ref", "Condition", "Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join",
               "Select", "Split", "Sub", "Transform", "And", "Equals", "If", "Not", "Or", "ToJsonString", "Length")


def add_short_forms(loader_class) -> None:
    """Teach a (safe) YAML loader class the short-form tags: ``!Ref x`` reads as ``{"Ref": x}``,
    ``!GetAtt a.b`` as ``{"Fn::GetAtt": ["a", "b"]}``, ``!Sub s`` as ``{"Fn::Sub": s}``."""
    import yaml

    def construct(loader, suffix, node):
        name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if suffix == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    for suffix in SHORT_FORMS:
        loader_class.add_constructor(f"!{suffix}", lambda loader, node, suffix=suffix: construct(loader, suffix, node))


class _Unknown(Exception):
    """Resolution reached something only deployment knows."""


class Resolver:
    def __init__(self, template: dict, parameters: dict[str, str]):
        self.template = template
        self.parameters = {}
        declared = template.get("Parameters")
        for name, spec in (declared.items() if isinstance(declared, dict) else ()):
            spec = spec if isinstance(spec, dict) else {}
            if name in parameters:
                self.parameters[name] = _typed(parameters[name], spec.get("Type"))
            elif "Default" in spec:
                self.parameters[name] = _typed(spec["Default"], spec.get("Type"))
        self.conditions = template.get("Conditions") if isinstance(template.get("Conditions"), dict) else {}
        self.mappings = template.get("Mappings") if isinstance(template.get("Mappings"), dict) else {}

    def value(self, node, pointer: str, origins: dict):
        """``node`` with its intrinsics resolved; records the template pointer of each produced
        member in ``origins`` (keyed by the produced value's own pointer, relative, from "")."""
        return self._value(node, pointer, "", origins)

    def _value(self, node, pointer, out, origins):
        origins[out] = pointer
        if isinstance(node, dict) and len(node) == 1:
            (name, argument), = node.items()
            if name == "Ref" or name.startswith("Fn::"):
                try:
                    return self._intrinsic(name, argument, f"{pointer}/{escape(name)}", out, origins)
                except _Unknown:
                    return Unresolved(_shown(name, argument))
        if isinstance(node, dict):
            result = {}
            for key, item in node.items():
                resolved = self._value(item, f"{pointer}/{escape(str(key))}", f"{out}/{escape(str(key))}", origins)
                if resolved is not _NO_VALUE:
                    result[key] = resolved
            return result
        if isinstance(node, list):
            items = []
            for index, item in enumerate(node):
                resolved = self._value(item, f"{pointer}/{index}", f"{out}/{len(items)}", origins)
                if resolved is not _NO_VALUE:
                    items.append(resolved)
            return items
        return node

    def _plain(self, node, pointer):
        """A resolved value with nothing unresolved in it, else _Unknown."""
        value = self._value(node, pointer, "", {})
        if _has_unresolved(value):
            raise _Unknown
        return value

    def _intrinsic(self, name, argument, pointer, out, origins):
        if name == "Ref":
            if argument == "AWS::NoValue":
                return _NO_VALUE
            if isinstance(argument, str) and argument in self.parameters:
                return self.parameters[argument]
            raise _Unknown
        if name == "Fn::If":
            if not (isinstance(argument, list) and len(argument) == 3):
                raise _Unknown
            branch = 1 if self._condition(argument[0]) else 2
            return self._value(argument[branch], f"{pointer}/{branch}", out, origins)
        if name == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else (argument + [{}])[:2] \
                if isinstance(argument, list) else (None, {})
            if not isinstance(text, str) or not isinstance(variables, dict):
                raise _Unknown

            def substitute(match):
                key = match.group(1)
                if key.startswith("!"):
                    return "${" + key[1:] + "}"
                if key in variables:
                    value = self._plain(variables[key], pointer)
                elif key in self.parameters:
                    value = self.parameters[key]
                else:
                    raise _Unknown
                if isinstance(value, list):
                    raise _Unknown
                return str(value)

            return re.sub(r"\$\{([^}]*)\}", substitute, text)
        if name == "Fn::Join":
            delimiter, items = (argument + [None, None])[:2] if isinstance(argument, list) else (None, None)
            items = self._plain(items, pointer)
            if not isinstance(delimiter, str) or not isinstance(items, list):
                raise _Unknown
            return delimiter.join(str(item) for item in items)
        if name == "Fn::Select":
            index, items = (argument + [None, None])[:2] if isinstance(argument, list) else (None, None)
            index, items = self._plain(index, pointer), self._plain(items, pointer)
            if not isinstance(items, list) or not str(index).isdigit() or int(index) >= len(items):
                raise _Unknown
            return items[int(index)]
        if name == "Fn::Split":
            delimiter, text = (argument + [None, None])[:2] if isinstance(argument, list) else (None, None)
            text = self._plain(text, pointer)
            if not isinstance(delimiter, str) or not delimiter or not isinstance(text, str):
                raise _Unknown
            return text.split(delimiter)
        if name == "Fn::FindInMap":
            keys = self._plain(argument, pointer) if isinstance(argument, list) else None
            node = self.mappings
            for key in keys or [None]:
                if not isinstance(node, dict) or str(key) not in node:
                    raise _Unknown
                node = node[str(key)]
            return self._value(node, pointer, out, origins)
        raise _Unknown  # Fn::GetAtt, Fn::ImportValue, Fn::GetAZs, Fn::Base64, Fn::Cidr, ...

    def _condition(self, node, depth: int = 0) -> bool:
        if depth > 32:
            raise _Unknown
        if isinstance(node, str):
            if node not in self.conditions:
                raise _Unknown
            return self._condition(self.conditions[node], depth + 1)
        if not (isinstance(node, dict) and len(node) == 1):
            raise _Unknown
        (name, argument), = node.items()
        if name == "Condition":
            return self._condition(argument, depth + 1)
        if not isinstance(argument, list):
            raise _Unknown
        if name == "Fn::Equals" and len(argument) == 2:
            left, right = (self._plain(item, "") for item in argument)
            return str(left) == str(right)
        if name == "Fn::Not" and len(argument) == 1:
            return not self._condition(argument[0], depth + 1)
        if name == "Fn::And":
            return all(self._condition(item, depth + 1) for item in argument)
        if name == "Fn::Or":
            return any(self._condition(item, depth + 1) for item in argument)
        raise _Unknown


_NO_VALUE = object()  # AWS::NoValue: the member is removed


def _typed(value, declared_type):
    if isinstance(declared_type, str) and (declared_type.startswith("List<") or declared_type == "CommaDelimitedList"):
        return [item.strip() for item in str(value).split(",")] if isinstance(value, str) else value
    if declared_type == "Number" and isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return value


def _has_unresolved(value) -> bool:
    if isinstance(value, Unresolved):
        return True
    if isinstance(value, dict):
        return any(_has_unresolved(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_unresolved(item) for item in value)
    return False


def _shown(name: str, argument) -> str:
    """An unresolved intrinsic as the YAML short form writes it: ``!GetAtt Role.Arn``."""
    short = name.removeprefix("Fn::")
    if name == "Fn::GetAtt" and isinstance(argument, list):
        argument = ".".join(str(item) for item in argument)
    if not isinstance(argument, str):
        import json

        argument = json.dumps(argument, default=str)
    return f"!{short} {argument}"


def derive(document: Document, parameters: dict[str, str]) -> list[tuple[DerivedDocument, str]]:
    """The create-cluster request of every AWS::SageMaker::Cluster in the template."""
    template = document.data
    derived = []
    resolver = Resolver(template, parameters)
    resources = template.get("Resources") if isinstance(template.get("Resources"), dict) else {}
    for logical_id, resource in resources.items():
        if not (isinstance(resource, dict) and resource.get("Type") == CLUSTER):
            continue
        base = f"/Resources/{escape(str(logical_id))}"
        properties = resource.get("Properties")
        if isinstance(properties, dict):
            base = f"{base}/Properties"
        else:
            properties = {}
        resolved_origins: dict[str, str] = {}
        resolved = resolver.value(properties, base, resolved_origins)
        request_origins: dict[str, str] = {}
        notes: list[tuple[str, str]] = []

        def origin_of(path: str, origin: str) -> None:
            request_origins.setdefault(path, resolved_origins.get(origin, base + origin))

        request = matched_request(resolved, "", OPERATION, origin_of, notes)
        if isinstance(request, dict) and "ClusterName" not in request:
            request["ClusterName"] = GENERATED_NAME  # the resource's ClusterName is optional
        notes = [(resolved_origins.get(pointer, base + pointer), message) for pointer, message in notes]
        derived.append((DerivedDocument(path=document.path, text=document.text, data=request, parsed=True,
                                        source=document, origins=request_origins, notes=notes), OPERATION))
    return derived


# Identity policies of IAM resources, where the template writes them (trust policies are not these).
POLICY_PLACES = {
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::Role": ("Policies",),
    "AWS::IAM::User": ("Policies",),
    "AWS::IAM::Group": ("Policies",),
    "AWS::IAM::RolePolicy": ("PolicyDocument",),
    "AWS::IAM::UserPolicy": ("PolicyDocument",),
    "AWS::IAM::GroupPolicy": ("PolicyDocument",),
}


def policies(document: Document, parameters: dict[str, str]) -> list[DerivedDocument]:
    """Each identity policy document of the template's IAM resources, to be linted like a --policy
    file. A statement holding a value known only at deployment is left out (it cannot be judged
    without it), so nothing in it is a false alarm."""
    template = document.data
    resolver = Resolver(template, parameters)
    resources = template.get("Resources") if isinstance(template.get("Resources"), dict) else {}
    found = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") not in POLICY_PLACES:
            continue
        properties = resource.get("Properties")
        if not isinstance(properties, dict):
            continue
        base = f"/Resources/{escape(str(logical_id))}/Properties"
        for place in POLICY_PLACES[resource["Type"]]:
            if place == "PolicyDocument":
                places = [(f"{base}/PolicyDocument", properties.get("PolicyDocument"))]
            else:
                entries = properties.get(place)
                places = [(f"{base}/{place}/{index}/PolicyDocument", entry.get("PolicyDocument"))
                          for index, entry in enumerate(entries if isinstance(entries, list) else ())
                          if isinstance(entry, dict)]
            for pointer, policy in places:
                derived = _policy_document(document, resolver, policy, pointer)
                if derived is not None:
                    found.append(derived)
    return found


def _policy_document(document: Document, resolver: Resolver, policy, pointer: str) -> DerivedDocument | None:
    origins: dict[str, str] = {}
    resolved = resolver.value(policy, pointer, origins)
    if not isinstance(resolved, dict):
        return None
    statements = resolved.get("Statement")
    if isinstance(statements, dict):
        statements, single = [statements], True
    elif isinstance(statements, list):
        single = False
    else:
        return None if _has_unresolved(resolved) else _derived_policy(document, resolved, origins)
    kept = [(index, statement) for index, statement in enumerate(statements) if not _has_unresolved(statement)]
    if not kept or _has_unresolved({k: v for k, v in resolved.items() if k != "Statement"}):
        return None
    if not single:
        renumbered = {path: origin for path, origin in origins.items() if not path.startswith("/Statement/")}
        for new, (old, _) in enumerate(kept):
            prefix = f"/Statement/{old}"
            renumbered.update({f"/Statement/{new}{path[len(prefix):]}": origin for path, origin in origins.items()
                               if path == prefix or path.startswith(prefix + "/")})
        origins = renumbered
        resolved = {**resolved, "Statement": [statement for _, statement in kept]}
    return _derived_policy(document, resolved, origins)


def _derived_policy(document: Document, data: dict, origins: dict[str, str]) -> DerivedDocument:
    return DerivedDocument(path=document.path, text=document.text, data=data, parsed=True, source=document,
                           origins=origins)
