"""Terraform configurations (``.tf`` files, HCL), read before any plan exists: each HyperPod cluster
resource of the AWS provider (``aws_sagemaker_cluster``, nested blocks) or the Cloud Control
provider (``awscc_sagemaker_cluster`` ..., attributes) is checked as the create request it sends,
with the same mapping as a plan's planned values (``terraform.resource_types``, ``matched_request``),
and its IAM policies are linted like a plan's.

Values are what the configuration alone decides: literals, ``var.x`` (its default, overridden by
``terraform.tfvars`` and then ``*.auto.tfvars`` of the folder, then ``--var``), ``local.x`` (locals of
such values, which may name one another), string templates of these, ``jsonencode`` of them and
heredocs. Every other expression (a resource's attribute, a data source, a module output, a
function, a condition, a ``for`` expression, a ``dynamic`` block) is ``Unresolved``: present, never
checked, never a false alarm. A file is read with the ``variable`` and ``locals`` blocks of every
``.tf`` file beside it, as Terraform reads a folder as one module.

The data is ``{"resource": {type: {name: values}}}`` with a resource's nested blocks as lists (as a
plan writes them), so a finding's pointer reads ``/resource/aws_sagemaker_cluster/main/instance_group/0/instance_type``
and its line is that of the attribute the value came from (a value taken from a variable or a local:
the attribute that names it). python-hcl2 is imported only when a ``.tf`` file is read.
"""

from __future__ import annotations

import json
import math
import os
import re

import hcl2
from hcl2.utils import process_escape_sequences
from lark.exceptions import LarkError, UnexpectedInput

from preflight.documents import MAX_DEPTH, Document, LoadError, Problem, decoded
from preflight.limits import read_bytes
from preflight.iac.derived import TERRAFORM_SOURCE, derived_request
from preflight.iac.terraform import POLICY_PLACES, _planned, policy_documents, resource_types
from preflight.pointers import escape
from preflight.values import Unresolved, has_unresolved

META_ARGUMENTS = ("count", "for_each", "depends_on", "provider")  # Terraform's, never sent to the API
META_BLOCKS = ("lifecycle", "provisioner", "connection", "timeouts")
# HCL is parsed in pure Python (python-hcl2 on lark, some 0.1 ms a token here, and 1 KB of memory):
# a file of more tokens than this, some 100 KB of ordinary HCL and far beyond a HyperPod module's few
# kilobytes, is not parsed, so any input ends quickly.
MAX_SOURCE_TOKENS = 20_000
# What a file must name to hold anything checked: a larger file that names none of these is clean unread.
CHECKED_TYPES = ("sagemaker_cluster", "_iam_")
# Quoted strings and comments, whose brackets do not nest values (the pre-scan reads each as one
# token; each alternative ends at the end of its line or of the text, so the scan stays linear).
UNNESTED = re.compile(r'"(?:[^"\\\n]|\\.)*"?|#[^\n]*|//[^\n]*|/\*.*?(?:\*/|\Z)', re.S)
TOKEN = re.compile(r'[\[{(]|[\]})]|[\w.-]+|[^\w\s]')
_PARSED: dict[tuple, tuple[str, object]] = {}  # (path, mtime, size) -> (text, tree or None): a folder's files are read once a run


class Configuration(Document):
    """A ``.tf`` file as read: its HyperPod and IAM resources evaluated, each value's place kept."""

    def __init__(self, path: str, text: str, data: object, positions: dict[str, int]):
        super().__init__(path, text, data, parsed=True)
        self._positions = positions


def read(path: str, max_bytes: int, variables: dict[str, str]) -> Document:
    """The ``.tf`` file at ``path`` with the module around it (the folder's other ``.tf`` files,
    its ``terraform.tfvars`` and ``*.auto.tfvars``, ``variables`` given as ``--var``). Malformed
    HCL is a syntax problem at its place; LoadError only for a file that cannot be read at all."""
    path = path.removeprefix("file://")
    raw = read_bytes(path, max_bytes)
    text = decoded(path, raw)
    if isinstance(text, Document):
        return text
    if _tokens_beyond(text, MAX_SOURCE_TOKENS):
        if not any(name in text for name in CHECKED_TYPES):
            return Configuration(path, text, {"resource": {}}, {})
        return Document(path=path, text=text, problems=[Problem(
            "syntax", f"more than {MAX_SOURCE_TOKENS:,} tokens of Terraform, more than preflight parses; not read",
            offset=0, fix="split the file: Terraform reads every .tf file of the folder as one module")])
    tree, problem = _parse(text)
    if problem is not None:
        return Document(path=path, text=text, problems=[problem])
    folder = os.path.dirname(os.path.abspath(path))
    try:
        scope = _Scope(_module(folder, max_bytes, os.path.abspath(path), text, tree), folder, max_bytes, variables)
        evaluator = _Evaluator(scope, text)
        data = {"resource": evaluator.resources(_items(tree.children[0]))}
    except RecursionError:
        return Document(path=path, text=text, problems=[Problem("syntax", "nested too deeply to read", offset=0)])
    return Configuration(path, text, data, evaluator.positions)


def derive(document: Configuration, parameters: dict[str, str]) -> list[tuple[Document, str]]:
    """The create request of every HyperPod resource the file declares (a configuration has no
    state: what it declares is created)."""
    types = resource_types()
    derived = []
    for kind, resources in document.data["resource"].items():
        if kind not in types:
            continue
        for name, values in resources.items():
            base = f"/resource/{escape(kind)}/{escape(name)}"
            origins: dict[str, str] = {}
            request = _planned(values, None, base, "", origins)  # the AWS provider's tag map as the API's list
            derived.append((derived_request(document, request, origins, base, types[kind], strings=True), types[kind]))
    return derived


def policies(document: Configuration, parameters: dict[str, str]) -> list[Document]:
    """The identity policies the file writes, whose JSON the configuration decides (``jsonencode``
    of literals, a heredoc): linted like a plan's, at the attribute that holds each."""
    found = []
    for kind, resources in document.data["resource"].items():
        for name, values in resources.items() if kind in POLICY_PLACES else ():
            found.extend(policy_documents(document, kind, values, f"/resource/{escape(kind)}/{escape(name)}"))
    return found


def _parse(text: str):
    """The lark tree of an HCL text (of at most MAX_SOURCE_TOKENS tokens), or the syntax problem at
    its place. Brackets nested more than MAX_DEPTH levels are refused before parsing, by a scan of
    the text: the parse and its tree would take minutes and gigabytes."""
    depth = deepest = 0
    for bracket in re.finditer(r"[\[{(]|[\]})]", UNNESTED.sub("", text)):
        depth += 1 if bracket.group() in "[{(" else -1
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        return None, Problem("syntax", f"nested more than {MAX_DEPTH} levels deep, more than any request or "
                                       "policy; not read further", offset=0)
    try:
        return hcl2.parses_to_tree(text), None
    except UnexpectedInput as err:
        offset = min(max(getattr(err, "pos_in_stream", None) or 0, 0), len(text))
        token = getattr(err, "token", None)
        if getattr(token, "type", None) == "$END" or offset >= len(text):
            message = "not valid Terraform (HCL): the file ends inside a block, string or expression"
        else:
            char = "end of line" if text[offset] in "\r\n" else repr(text[offset])
            message = f"not valid Terraform (HCL): unexpected {char}"
        return None, Problem("syntax", message, offset=offset, fix="run `terraform fmt` or `terraform validate` on it")
    except (LarkError, RecursionError) as err:
        return None, Problem("syntax", f"not valid Terraform (HCL): {type(err).__name__}", offset=0)


def _tokens_beyond(text: str, limit: int) -> bool:
    """Whether the text has more than ``limit`` tokens (a string or comment counting as one)."""
    for count, _ in enumerate(TOKEN.finditer(UNNESTED.sub('""', text)), 1):
        if count > limit:
            return True
    return False


def _module(folder: str, max_bytes: int, own: str, text: str, tree) -> list[tuple[str, object]]:
    """(text, tree) of each ``.tf`` file of the folder that parses, this one included."""
    module = [(text, tree)]
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        names = []
    for name in names:
        path = os.path.join(folder, name)
        if name.lower().endswith(TERRAFORM_SOURCE) and path != own:
            parsed = _parsed(path, max_bytes)
            if parsed is not None:
                module.append(parsed)
    return module


def _parsed(path: str, max_bytes: int):
    """(text, tree) of another file of the module, or None when it cannot be read or parsed: what
    it declares is then unknown, never guessed."""
    try:
        status = os.stat(path)
        key = (path, status.st_mtime_ns, status.st_size)
        if key not in _PARSED:
            raw = read_bytes(path, max_bytes)
            text = decoded(path, raw)
            readable = isinstance(text, str) and not _tokens_beyond(text, MAX_SOURCE_TOKENS)
            _PARSED[key] = (text, _parse(text)[0]) if readable else ("", None)
    except (LoadError, OSError):  # a neighbour that cannot be read declares nothing known
        return None
    text, tree = _PARSED[key]
    return None if tree is None else (text, tree)


# --- the parse tree ----------------------------------------------------------------------------

def _is_tree(node) -> bool:
    return hasattr(node, "data")


def _items(body) -> list:
    """The attributes and blocks of a body."""
    return [child for child in body.children if _is_tree(child) and child.data in ("attribute", "block")]


def _name(node) -> str:
    """The text of an identifier, keyword or literal-value node, or of a plain string label."""
    if node.data == "string":
        return "".join(str(part.children[0]) for part in node.children if _is_tree(part))
    return str(node.children[0])


def _start(node) -> int:
    return node.start_pos if not _is_tree(node) else node.meta.start_pos


def _block(node):
    """(type, labels, body, offset of the type) of a block."""
    parts = [child for child in node.children if _is_tree(child) and child.data != "new_line_or_comment"]
    return _name(parts[0]), [_name(label) for label in parts[1:-1]], parts[-1], _start(parts[0])


def _attribute(body, name: str):
    """The attribute ``name`` of a body, or None."""
    return next((item for item in _items(body) if item.data == "attribute" and _name(item.children[0]) == name), None)


def _expressions(node) -> list:
    """The sub-expressions of a node, without punctuation tokens and comments."""
    return [child for child in node.children if _is_tree(child) and child.data != "new_line_or_comment"]


class _Scope:
    """The module's variables (values) and locals (expressions, evaluated on first use)."""

    def __init__(self, module, folder: str, max_bytes: int, given: dict[str, str]):
        self.variables: dict[str, object] = {}
        self.locals: dict[str, tuple[str, object]] = {}
        self.default_tags: tuple[str, object] | None = None  # the default aws provider's default_tags
        literal = _Evaluator(None, "")
        for text, tree in module:
            literal.text = text
            for item in _items(tree.children[0]):
                if item.data != "block":
                    continue
                kind, labels, body, _ = _block(item)
                if kind == "variable" and len(labels) == 1:
                    default = _attribute(body, "default")
                    self.variables[labels[0]] = (literal.value(_expressions(default)[-1]) if default is not None
                                                 else Unresolved(f"var.{labels[0]}"))
                elif kind == "locals":
                    for attribute in _items(body):
                        if attribute.data == "attribute":
                            self.locals[_name(attribute.children[0])] = (text, _expressions(attribute)[-1])
                elif kind == "provider" and labels == ["aws"] and _attribute(body, "alias") is None:
                    for block in _items(body):
                        tags = _attribute(_block(block)[2], "tags") if block.data == "block" else None
                        if _block(block)[0] == "default_tags" and tags is not None:
                            self.default_tags = (text, _expressions(tags)[-1])
        for path in self._tfvars(folder):
            parsed = _parsed(path, max_bytes)
            if parsed is not None:
                literal.text = parsed[0]
                for attribute in _items(parsed[1].children[0]):
                    if attribute.data == "attribute" and _name(attribute.children[0]) in self.variables:
                        self.variables[_name(attribute.children[0])] = literal.value(_expressions(attribute)[-1])
        for name, value in given.items():
            if name in self.variables:
                self.variables[name] = self._given(value)
        self.evaluated: dict[str, object] = {}
        self.evaluating: set[str] = set()

    @staticmethod
    def _tfvars(folder: str) -> list[str]:
        """The variable files Terraform loads by itself, in its order: terraform.tfvars, then *.auto.tfvars by name."""
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            return []
        automatic = [name for name in names if name.endswith(".auto.tfvars")]
        return [os.path.join(folder, name) for name in (["terraform.tfvars"] if "terraform.tfvars" in names else []) + automatic]

    @staticmethod
    def _given(value: str):
        """A ``--var`` value as ``terraform -var`` reads it: a list or map written in HCL, else the text."""
        if not value.lstrip().startswith(("[", "{")):
            return value
        tree, problem = _parse(f"v = {value}")
        items = [] if problem is not None else _items(tree.children[0])
        if len(items) != 1 or items[0].data != "attribute":  # not one value: terraform -var refuses it
            return Unresolved(value)
        return _Evaluator(None, f"v = {value}").value(_expressions(items[0])[-1])

    def local(self, name: str):
        if name in self.evaluated:
            return self.evaluated[name]
        if name not in self.locals or name in self.evaluating:  # undeclared, or a cycle Terraform refuses
            return Unresolved(f"local.{name}")
        self.evaluating.add(name)
        text, expression = self.locals[name]
        self.evaluated[name] = _Evaluator(self, text).value(expression)
        self.evaluating.discard(name)
        return self.evaluated[name]


class _Evaluator:
    """Values of expressions of one file's text; with a pointer, each value's place is recorded.
    Without a scope (variable defaults, tfvars) only literals resolve, as Terraform allows there."""

    def __init__(self, scope: _Scope | None, text: str):
        self.scope, self.text = scope, text
        self.positions: dict[str, int] = {}

    def resources(self, items) -> dict:
        """The HyperPod and IAM resources among a file's top-level items, evaluated."""
        wanted = set(resource_types()) | set(POLICY_PLACES)
        found: dict[str, dict] = {}
        for item in items:
            if item.data != "block":
                continue
            kind, labels, body, offset = _block(item)
            if kind != "resource" or len(labels) != 2 or labels[0] not in wanted:
                continue
            count = _attribute(body, "count")
            if count is not None and self.value(_expressions(count)[-1]) == 0:  # declared, never created
                continue
            pointer = f"/resource/{escape(labels[0])}/{escape(labels[1])}"
            for prefix in ("/resource", f"/resource/{escape(labels[0])}", pointer):
                self.positions.setdefault(prefix, offset)
            values = self.body(body, pointer)
            if labels[0].startswith("aws_") and self.scope.default_tags and _attribute(body, "provider") is None:
                values["tags"] = self._with_default_tags(values.get("tags"))
            found.setdefault(labels[0], {})[labels[1]] = values
        return found

    def _with_default_tags(self, tags):
        """A resource's tags as the AWS provider sends them: its provider's ``default_tags``,
        overridden by the resource's own."""
        text, expression = self.scope.default_tags
        defaults = _Evaluator(self.scope, text).value(expression)
        if isinstance(defaults, dict) and isinstance(tags, dict | None) and not isinstance(tags, Unresolved):
            return {**defaults, **(tags or {})}
        return Unresolved("default_tags and tags")

    def body(self, body, pointer: str) -> dict:
        """A block's attributes, and its nested blocks as lists of bodies (a ``dynamic`` one makes
        its blocks unknown)."""
        values: dict = {}
        for item in _items(body):
            if item.data == "attribute":
                name = _name(item.children[0])
                if name in META_ARGUMENTS:
                    continue
                self.positions[f"{pointer}/{escape(name)}"] = _start(item.children[0])
                values[name] = self.value(_expressions(item)[-1], f"{pointer}/{escape(name)}")
                continue
            kind, labels, block_body, offset = _block(item)
            if kind in META_BLOCKS:
                continue
            if kind == "dynamic" and labels:
                self.positions.setdefault(f"{pointer}/{escape(labels[0])}", offset)
                values[labels[0]] = Unresolved(f"dynamic \"{labels[0]}\"")
                continue
            blocks = values.setdefault(kind, [])
            if isinstance(blocks, list):
                child = f"{pointer}/{escape(kind)}"
                self.positions.setdefault(child, offset)
                self.positions[f"{child}/{len(blocks)}"] = offset
                blocks.append(self.body(block_body, f"{child}/{len(blocks)}"))
        return values

    def value(self, node, pointer: str | None = None):
        """The value of an expression node, Unresolved where the configuration alone does not decide it."""
        kind = node.data
        if kind == "expr_term":
            inner = _expressions(node)
            return self.value(inner[0], pointer) if len(inner) == 1 else Unresolved(self._source(node))
        if kind in ("int_lit", "float_lit"):
            return _number(str(node.children[0]))
        if kind == "literal_value":
            return {"true": True, "false": False, "null": None}[str(node.children[0])]
        if kind == "unary_op" and str(node.children[0]) == "-":
            operand = self.value(node.children[1])
            return -operand if isinstance(operand, (int, float)) and not isinstance(operand, bool) else Unresolved(self._source(node))
        if kind == "string":
            return self._template(node)
        if kind in ("heredoc_template", "heredoc_template_trim"):
            return self._heredoc(str(node.children[0]), kind == "heredoc_template_trim", node)
        if kind == "tuple":
            items = []
            for index, item in enumerate(_expressions(node)):
                if pointer is not None:
                    self.positions[f"{pointer}/{index}"] = _start(item)
                items.append(self.value(item, None if pointer is None else f"{pointer}/{index}"))
            return items
        if kind == "object":
            return self._object(node, pointer)
        if kind in ("get_attr_expr_term", "index_expr_term"):
            return self._traversal(node)
        if kind == "function_call":
            return self._call(node)
        return Unresolved(self._source(node))

    def _source(self, node) -> str:
        return self.text[node.meta.start_pos:node.meta.end_pos] if not node.meta.empty else node.data

    def _object(self, node, pointer: str | None):
        result = {}
        for element in _expressions(node):
            key_node, value_node = _expressions(element)
            key_expression = _expressions(key_node)[0] if _expressions(key_node) else key_node
            inner = _expressions(key_expression)
            if key_expression.data == "expr_term" and len(inner) == 1 and inner[0].data == "identifier":
                key = _name(inner[0])  # a bare name is the key itself, not a reference
            elif key_expression.data == "keyword":
                key = _name(key_expression)  # `in`, `for` ... as a key
            else:
                key = self.value(key_expression)
            if not isinstance(key, str) or isinstance(key, Unresolved):
                return Unresolved(self._source(node))
            child = None if pointer is None else f"{pointer}/{escape(key)}"
            if child is not None:
                self.positions[child] = _start(key_node)
            result[key] = self.value(value_node, child)
        return result

    def _template(self, node):
        """A quoted string: escapes resolved, interpolations of known values joined in."""
        parts = []
        for part in _expressions(node):
            piece = part.children[0]
            if not _is_tree(piece):
                if piece.type == "STRING_CHARS":
                    parts.append(process_escape_sequences(str(piece)))
                else:  # $${ and %%{: the literal ${ and %{
                    parts.append(str(piece)[1:])
                continue
            if piece.data != "interpolation":  # a template directive (%{ if }, %{ for })
                return Unresolved(self._source(node).strip('"'))
            value = self.value(_expressions(piece)[0])
            text = _interpolated(value)
            if text is None:
                return Unresolved(self._source(node).strip('"'))
            parts.append(text)
        return "".join(parts)

    def _heredoc(self, token: str, trim: bool, node):
        """A heredoc's text (``<<-`` with its common indentation removed); one that interpolates or
        holds a directive is unknown."""
        lines = token.split("\n")[1:-2]  # between the opening line and the closing marker
        if trim:
            indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
            lines = [line[indent:] for line in lines]
        body = "\n".join(lines) + ("\n" if lines else "")
        if re.search(r"(?<!\$)\$\{|(?<!%)%\{", body):
            return Unresolved(self._source(node))
        return body.replace("$${", "${").replace("%%{", "%{")

    def _traversal(self, node):
        """``var.x``, ``local.x`` and what follows them (``var.groups[0].name``); any other
        reference is known at apply time only."""
        steps = []
        root = node
        while root.data in ("get_attr_expr_term", "index_expr_term"):
            term, step = _expressions(root)
            steps.append(step)
            root = term
            inner = _expressions(root)
            if root.data == "expr_term" and len(inner) == 1:
                root = inner[0]
        steps.reverse()
        unknown = Unresolved(self._source(node))
        if self.scope is None or root.data != "identifier" or _name(root) not in ("var", "local") or not steps \
                or steps[0].data != "get_attr":
            return unknown
        name = _name(_expressions(steps[0])[0])
        value = self.scope.variables.get(name, unknown) if _name(root) == "var" else self.scope.local(name)
        for step in steps[1:]:
            if isinstance(value, Unresolved):
                return unknown
            if step.data == "get_attr":
                key = _name(_expressions(step)[0])
            elif step.data == "short_index":
                key = _number(str(step.children[-1]))
            elif step.data == "braces_index":
                key = self.value(_expressions(step)[0])
            else:
                return unknown
            if isinstance(value, dict) and isinstance(key, str) and key in value:
                value = value[key]
            elif isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool) and 0 <= key < len(value):
                value = value[key]
            else:
                return unknown
        return unknown if isinstance(value, Unresolved) else value

    def _call(self, node):
        """``jsonencode`` of a value the configuration decides (a policy's JSON); any other function is unknown."""
        parts = _expressions(node)
        arguments = _expressions(parts[1]) if len(parts) == 2 and parts[1].data == "arguments" else []
        if _name(parts[0]) == "jsonencode" and len(arguments) == 1:
            value = self.value(arguments[0])
            if not has_unresolved(value):
                return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return Unresolved(self._source(node))


def _number(text: str):
    """A numeric literal; one Python cannot hold as Terraform does (over 4,300 digits, beyond a
    float's range) is left unknown."""
    try:
        number = int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    except ValueError:
        return Unresolved(text)
    return number if not isinstance(number, float) or math.isfinite(number) else Unresolved(text)


def _interpolated(value) -> str | None:
    """A value as a string template writes it, None when it is not a known primitive."""
    if isinstance(value, Unresolved) or value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
