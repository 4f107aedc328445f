"""The one call path every reader goes through: settings checked before botocore sees them, clients
made on first use (from compact service models when they were cut from the installed botocore),
each call guarded so that whatever goes wrong becomes ``LookupFailed`` naming the call, each
call's whole duration bounded (``--timeout``, within what is left of ``--deadline``: a body
trickled a byte at a time cannot stretch it), each answer held to the model's types before any
reader sees it, each distinct read memoised (safe under the concurrent prefetch), batches, and
pages (of a listing, or of a read by ids) followed to their end (no more than MAX_PAGES, a token
never twice, no entry twice) or not at all: an answer that says there is more is never taken as
the whole. The readers (one module per service) own what they call and how an answer becomes a
record; this module owns how a call can fail.
"""

from __future__ import annotations

import datetime
import gc
import json
import os
import pathlib
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import botocore
import botocore.config
import botocore.exceptions
import botocore.parsers
import botocore.session

from preflight.lookup import LookupFailed

# Error codes that are AWS saying the resource does not exist: a verified absence.
NOT_FOUND = {
    "InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable", "InvalidSnapshot.NotFound",
    "InvalidSnapshotID.Malformed", "NotFoundException", "NoSuchEntity", "NoSuchKey", "NoSuchBucket",
    "InvalidSubnetID.NotFound", "InvalidSubnetID.Malformed", "InvalidGroup.NotFound", "InvalidGroupId.Malformed",
    "ResourceNotFoundException", "ResourceNotFound", "NoSuchBucketPolicy", "InvalidInstanceType",
    "AWSOrganizationsNotInUseException",  # the account is in no organisation
    "FileSystemNotFound", "InvalidNetworkInterfaceID.NotFound",
}
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
          "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch", "403"}
THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
             "SlowDown", "RequestThrottled"}
MAX_PAGES = 100  # an endpoint that keeps answering with a token is not followed forever
# Page tokens, and the member that says whether there is a next page (IAM's; else the token's presence).
CONTINUED = {"NextToken": None, "Marker": "IsTruncated"}
# botocore's models of the services preflight calls, with only the operations it calls
# (scripts/generate_models.py).
MODELS = pathlib.Path(__file__).with_name("models")

REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


class ConfigurationError(Exception):
    """The AWS settings cannot be used (no region, unknown profile): a usage error."""


@dataclass(frozen=True)
class ClientFailure:
    code: str  # AWS's error code, or the HTTP status when the answer carried none
    status: int | None
    message: str
    aws_code: bool  # the answer named an AWS error code (not an HTML page or a bare status)

    @property
    def reason(self) -> str:
        if self.code in DENIED or self.status == 403:
            return f"access denied ({self.code}: {self.message})"
        if self.code in THROTTLED:
            return f"throttled, still after retries ({self.code})"
        return f"{self.code}: {self.message}" if self.aws_code else self.message


def client_error(err) -> ClientFailure:
    """What a botocore ClientError says, without echoing a body that is not an AWS error."""
    error = err.response.get("Error") or {}
    status = (err.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    code = str(error.get("Code") or status or "")
    aws_code = bool(code) and not code.isdigit()
    message = " ".join(str(error.get("Message") or "").split())
    if not aws_code or "<" in message:  # an HTML or XML page: its text says nothing to rely on
        message = f"HTTP {status} without an AWS error code" if not aws_code else f"HTTP {status}"
    return ClientFailure(code, status, without_userinfo(message[:300]), aws_code)


def transport_failure(err: BaseException) -> str:
    """Why a call got no usable answer: a timeout, no connection, a reset, an unreadable answer."""
    if isinstance(err, botocore.exceptions.NoCredentialsError):
        return "no AWS credentials found"
    if isinstance(err, (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.ReadTimeoutError)):
        return f"timed out ({type(err).__name__})"
    if isinstance(err, botocore.exceptions.EndpointConnectionError):
        return f"endpoint unreachable ({without_userinfo(str(err.kwargs.get('endpoint_url', '')))})"
    if isinstance(err, botocore.parsers.ResponseParserError):  # its text holds the raw body
        return "the answer could not be read (not in the API's format)"
    if isinstance(err, (botocore.exceptions.ConnectionClosedError, ConnectionError)):
        return f"the connection was closed before the answer was complete ({type(err).__name__})"
    return f"the call failed ({type(err).__name__})"


def settings_refused(err: BaseException) -> str:
    """Why botocore would not make a client (a setting it refuses)."""
    return f"the AWS settings cannot be used: {without_userinfo(str(err))}"


def lookup_name(service: str, operation: str) -> str:
    """How a failed call is named: ``ec2:DescribeImages``."""
    return f"{service}:{''.join(part.capitalize() for part in operation.split('_'))}"


def without_userinfo(text: str) -> str:
    """``text`` with any ``user:password@`` taken out of the URLs in it."""
    return USERINFO.sub("", text)


def _settings(region: str | None) -> tuple[str | None, int]:
    """The region as given (and where from) and AWS_MAX_ATTEMPTS, checked before botocore sees them."""
    given = [(region, "--region"), (os.environ.get("AWS_REGION"), "AWS_REGION"),
             (os.environ.get("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION")]
    region, source = next(((value, where) for value, where in given if value), (None, None))
    if region is not None and not REGION.fullmatch(region):
        raise ConfigurationError(f"{source} {region!r} is not an AWS region name (such as us-east-1)")
    attempts = os.environ.get("AWS_MAX_ATTEMPTS") or "4"
    if not attempts.isdigit() or int(attempts) < 1:
        raise ConfigurationError(f"AWS_MAX_ATTEMPTS {attempts!r} is not a whole number of at least 1")
    for name, value in os.environ.items():
        if name == "AWS_ENDPOINT_URL" or name.startswith("AWS_ENDPOINT_URL_"):
            url = urlsplit(value)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise ConfigurationError(f"{name} {without_userinfo(value)!r} is not an http(s) URL")
    return region, int(attempts)


_LOADER = None  # the process's model loader, made with its first account


def _session(profile: str | None, region: str | None):
    """A botocore session whose service models are loaded once per process (a run makes one
    account; the tests and bench/ make many)."""
    global _LOADER
    session = botocore.session.Session(profile=profile)
    if region:
        session.set_config_variable("region", region)
    if _LOADER is None:
        _LOADER = _loader(session)
    else:
        session.register_component("data_loader", _LOADER)
    return session


def _loader(session):
    """The session's model loader, the compact models first when they were cut from the installed
    botocore release. With any other release its own models serve: a request validated against a
    newer installed model (drift.py) is sent with that model, and an older botocore never reads a
    newer model. Botocore's loader takes the newest API version found on any of its paths."""
    loader = session.get_component("data_loader")
    if json.loads((MODELS / "source.json").read_text())["botocore"] == botocore.__version__:
        paths = loader.search_paths  # before botocore's own, after any the user gives (AWS_DATA_PATH)
        paths.insert(paths.index(loader.BUILTIN_DATA_PATH), str(MODELS))
    return loader


class Overran(Exception):
    """A call that did not end within its bound (``started`` False: --deadline had passed before it)."""

    def __init__(self, reason: str, started: bool = True):
        super().__init__(reason)
        self.started = started


class Calls:
    """The account's connection: its region, its clients, and the guarded, memoised call.
    ``timeout`` bounds each call; ``deadline`` (a time.monotonic() value) the run's calls together."""

    def __init__(self, profile: str | None, region: str | None, timeout: float, deadline: float | None = None):
        region, attempts = _settings(region)
        first = _LOADER is None
        try:
            # AWS_REGION is the standard variable too (the SDKs read it; this botocore reads AWS_DEFAULT_REGION).
            session = _session(profile, region)
            self.region = session.get_config_variable("region")
        except botocore.exceptions.BotoCoreError as err:  # an unknown profile, an unreadable config file
            raise ConfigurationError(settings_refused(err)) from None
        if not self.region:
            raise ConfigurationError("no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION")
        if not REGION.fullmatch(self.region):
            raise ConfigurationError(f"the profile's region {self.region!r} is not an AWS region name")
        self._session = session
        self.timeout, self.deadline = timeout, deadline
        self._configs = {
            "lookup": botocore.config.Config(retries={"mode": "standard", "total_max_attempts": attempts},
                                             connect_timeout=timeout, read_timeout=timeout),
            # Creates and updates are not idempotent: exactly one attempt, then look before retrying.
            "send": botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1},
                                           connect_timeout=timeout, read_timeout=timeout)}
        self._clients: dict = {}
        self._client_lock = threading.Lock()
        try:
            self.client("sts")  # now: a setting botocore refuses is a usage error before anything is checked
        except (ValueError, botocore.exceptions.BotoCoreError) as err:
            raise ConfigurationError(settings_refused(err)) from None
        if first:
            # botocore's modules and endpoint data, loaded now, live as long as the process: out of
            # the collector's reach, the clients and answers that follow do not make it walk them
            # again and again (that walking was about a third of a live run's CPU).
            gc.freeze()
        self.counted: Counter = Counter()  # (service, operation) -> calls made, for tests and bench/
        self._memo: dict = {}
        self._locks: dict = {}
        self._guard = threading.Lock()

    def client(self, service: str, purpose: str = "lookup"):
        """The service's client, made on first use: making one costs 2 to 15 ms of CPU from the
        compact models (100 to 250 for EC2's whole model), so the others are made while the first
        calls are in flight, and a check never makes the sender. One at a time: sessions are not
        thread-safe, clients are."""
        with self._client_lock:
            if (service, purpose) not in self._clients:
                self._clients[service, purpose] = self._session.create_client(service, config=self._configs[purpose])
            return self._clients[service, purpose]

    def bounded(self, attempt):
        """``attempt()`` (a botocore call), ended after ``--timeout`` seconds or when ``--deadline``
        passes, whichever is first: it runs in a thread of its own that is left behind (a daemon) if
        it overruns, since a socket read cannot be stopped from outside. Overran when it does."""
        limit = self.timeout if self.deadline is None else min(self.timeout, self.deadline - time.monotonic())
        if limit <= 0:
            raise Overran("the run's --deadline passed before the call", started=False)
        result: dict = {}
        done = threading.Event()

        def run():
            try:
                result["answer"] = attempt()
            except BaseException as err:  # noqa: BLE001 - handed to the caller's thread as it is
                result["error"] = err
            finally:
                done.set()

        threading.Thread(target=run, daemon=True).start()
        if not done.wait(limit):
            why = "--deadline" if limit < self.timeout else f"--timeout {self.timeout:g}s"
            raise Overran(f"timed out (no whole answer within {limit:.3g}s: {why})")
        if "error" in result:
            raise result["error"]
        return result["answer"]

    def call(self, service: str, operation: str, build=None, **params):
        """One API call and, inside the same guard, the reading of its answer: ``build(answer)``
        (by default the answer itself), or None when AWS says with an error code that the
        resource does not exist. Every other outcome, including an answer not of the model's types,
        one that lacks a member ``build`` needs, or one that says it is one page of several (use
        ``pages``), raises LookupFailed naming the call."""
        return self._call(service, operation, build, params, paged=False)

    def _call(self, service: str, operation: str, build, params: dict, paged: bool):
        lookup = lookup_name(service, operation)
        self.counted[(service, operation)] += 1
        try:
            client = self.client(service)
        except (ValueError, botocore.exceptions.BotoCoreError) as err:
            raise LookupFailed(lookup, settings_refused(err)) from None

        def attempt():  # the call and the reading of its answer (an S3 object's body is read here), bounded together
            answer = getattr(client, operation)(**params)
            problem = nonconforming(output_shape(client, operation), answer) or (None if paged else _continued(answer))
            if problem:
                raise LookupFailed(lookup, f"the answer is not whole and well-typed ({problem})")
            return build(answer) if build else answer

        try:
            return self.bounded(attempt)
        except botocore.exceptions.ClientError as err:
            failure = client_error(err)
            # An AWS "not found" code is a verified absence; a bare 404 (an HTML page, a proxy) is
            # not, except for S3's HEAD requests, whose answers never have a body to carry a code.
            if failure.code in NOT_FOUND or (failure.code == "404" and operation.startswith("head_")) or (
                    failure.code == "ValidationException" and "not find" in failure.message.lower()):
                return None
            raise LookupFailed(lookup, failure.reason) from None
        except LookupFailed:
            raise
        except Overran as err:
            raise LookupFailed(lookup, str(err)) from None
        except botocore.exceptions.BotoCoreError as err:
            raise LookupFailed(lookup, transport_failure(err)) from None
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as err:
            raise LookupFailed(lookup, f"the answer lacks what the API returns ({type(err).__name__}: "
                                       f"{without_userinfo(str(err))[:80]})") from None
        except Exception as err:  # noqa: BLE001 - whatever else breaks a call is a failed lookup
            raise LookupFailed(lookup, transport_failure(err)) from None

    def pages(self, service: str, operation: str, page, token: str = "NextToken", key=None, **params):
        """Every page of a listing, each read through ``page(answer) -> items``: a list of all the
        items, or None when a page says the resource does not exist. ``token`` names the
        continuation (``NextToken``; ``Marker`` with ``IsTruncated`` for IAM). A listing that never
        ends, repeats a token or lists an entry twice (``key(item)``, by default the item) is a
        failed lookup, not a partial answer."""
        lookup = lookup_name(service, operation)
        items: list = []
        seen_tokens: set = set()
        seen_keys: set = set()
        following: dict = {}
        for _ in range(MAX_PAGES):
            def read(answer):  # inside the call's guard: a page not in the API's shape is a failed lookup
                more = page(answer)
                return more, [key(item) if key else _identity(item) for item in more], _next(answer, token)
            found = self._call(service, operation, read, {**params, **following}, paged=True)
            if found is None:
                return None
            more, identities, next_token = found
            for identity in identities:
                if identity in seen_keys:
                    raise LookupFailed(lookup, f"the listing names {without_userinfo(str(identity))[:80]} twice")
                seen_keys.add(identity)
            items += more
            if next_token is None:
                return items
            if next_token in seen_tokens:
                raise LookupFailed(lookup, "the answer pages repeat (a token given twice)")
            seen_tokens.add(next_token)
            following = {token: next_token}
        raise LookupFailed(lookup, f"the answer pages never end (more than {MAX_PAGES})")

    def by_id(self, service: str, operation: str, page, **params) -> dict | None:
        """A read of resources by their ids (DescribeImages with ImageIds ...): every page's
        ``(id, record)`` pairs (``page(answer)``) as a dict, or None when AWS says one does not
        exist. A record given twice is a failed lookup, as in any listing (``pages``), not one
        record read over another."""
        found = self.pages(service, operation, page, key=lambda pair: pair[0], **params)
        return None if found is None else dict(found)

    def once(self, key, compute):
        """Memoise ``compute()`` under ``key``; concurrent callers of one key wait for one call."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._memo:
                try:
                    self._memo[key] = ("ok", compute())
                except LookupFailed as err:
                    self._memo[key] = ("failed", err)
        outcome, value = self._memo[key]
        if outcome == "failed":
            raise value
        return value

    def batch(self, kind: str, ids: list[str], fetch) -> dict:
        """Fetch the ids not read yet in one call (``fetch(ids) -> {id: record}``, through ``by_id``); when the batch
        is refused because one id does not exist, read them one by one."""
        with self._guard:  # one batch at a time per kind of resource
            lock = self._locks.setdefault((kind, "batch"), threading.Lock())
        with lock:
            missing = sorted({i for i in ids if (kind, i) not in self._memo})
            if missing:
                try:
                    found = fetch(missing)
                    if found is None and len(missing) > 1:
                        found = {}
                        for one in missing:
                            found.update(fetch([one]) or {})
                    outcome = {one: ("ok", (found or {}).get(one)) for one in missing}
                except LookupFailed as failure:  # remembered too: a failed read is not repeated
                    outcome = {one: ("failed", failure) for one in missing}
                for one, result in outcome.items():
                    self._memo.setdefault((kind, one), result)
        return {i: self.once((kind, i), lambda: None) for i in ids}


# ----- reading answers: a member not of the API's type is an answer not in the API's shape -----

def output_shape(client, operation: str):
    """The model's shape of the operation's answer (None when it has none)."""
    model = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[operation])
    return model.output_shape


# The Python type botocore parses each scalar of the model into.
# String shapes that botocore hands over decoded (IAM's policy documents, botocore.handlers).
DECODED = {"policyDocumentType"}
SCALARS = {"string": str, "character": str, "boolean": bool, "integer": int, "long": int,
           "float": (int, float), "double": (int, float), "timestamp": datetime.datetime}


def nonconforming(shape, value, where: str = "", patterns: bool = False) -> str | None:
    """Where ``value`` is not of the model's types (``shape``), or None. A count that arrives as a
    string, an object where a list belongs: the answer is not the API's. Members the model does
    not name are left alone (a newer API may add some); with ``patterns``, strings are held to the
    model's patterns too (an ARN that is no ARN)."""
    if shape is None or value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return f"{where or 'the answer'} is not an object"
        for name, member in shape.members.items():
            problem = nonconforming(member, value.get(name), f"{where}/{name}", patterns)
            if problem:
                return problem
        return None
    if kind == "list":
        if not isinstance(value, list):
            return f"{where} is not a list"
        return next((p for i, item in enumerate(value)
                     if (p := nonconforming(shape.member, item, f"{where}/{i}", patterns))), None)
    if kind == "map":
        if not isinstance(value, dict):
            return f"{where} is not a map"
        return next((p for k, item in value.items()
                     if (p := nonconforming(shape.value, item, f"{where}/{k}", patterns))), None)
    expected = SCALARS.get(kind)
    if shape.name in DECODED and isinstance(value, dict):
        return None
    if expected is None:  # blob (an S3 body is a stream), document: anything the parser gives
        return None
    if not isinstance(value, expected) or (kind not in ("boolean",) and isinstance(value, bool)):
        return f"{where} is not a {kind} ({type(value).__name__})"
    pattern = shape.metadata.get("pattern") if patterns and kind == "string" else None
    if pattern and not _fullmatch(pattern, value):
        return f"{where} is not of the form the API gives"
    return None


def _fullmatch(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:  # a pattern in the model's (Java) dialect that Python does not read: not held to it
        return True


def _next(answer: dict, token: str):
    """The token of the next page, or None at the last one. ``IsTruncated`` without a marker is
    an answer that cannot be followed."""
    flag_member = CONTINUED.get(token)
    if flag_member is not None and answer.get(flag_member) is not True:
        return None
    found = answer.get(token)
    if flag_member is not None and not found:
        raise ValueError(f"{flag_member} without a {token}")
    return found or None


def _continued(answer) -> str | None:
    """Why an answer read as a whole is only one page of several, or None."""
    if not isinstance(answer, dict):
        return None
    if answer.get("NextToken") or answer.get("IsTruncated") is True:
        return "it is one page of several and was read as the whole"
    return None

def text(value) -> str:
    """A member that must be a string."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {type(value).__name__}")
    return value


def flag(value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, found {type(value).__name__}")
    return value


def number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, found {type(value).__name__}")
    return value


def whole(value) -> int:
    """A member that must be an integer (a bool is not one)."""
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def listed(record: dict, member: str, needed: bool = False) -> list:
    """A list member of an answer: one the API always returns must be there (an empty or foreign
    answer is not "none"); an optional one may be absent."""
    value = record[member] if needed else record.get(member, [])
    if not isinstance(value, list):
        raise TypeError(f"{member} is not a list")
    return value


def tags(record: dict) -> dict[str, str]:
    return {text(t["Key"]): text(t.get("Value", "")) for t in listed(record, "Tags")}


def document(value) -> dict:
    """A policy document as IAM, KMS and S3 return it (URL-encoded JSON text, or already decoded)."""
    found = json.loads(unquote(value)) if isinstance(value, str) else value
    if not isinstance(found, dict):
        raise TypeError("the policy document is not a JSON object")
    return found


def _identity(item) -> object:
    """A listed entry as a set member: itself, or (a record, as most listings give) its JSON text."""
    try:
        hash(item)
    except TypeError:
        return json.dumps(item, sort_keys=True, default=str)
    return item
