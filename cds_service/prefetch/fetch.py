"""Reading from the EHR's FHIR server when prefetch did not bring what the rules need.

Safe by default: https only (unless FHIR_ALLOW_HTTP for local testing), no redirects, the access token
sent only to fhirServer itself (a `next` link elsewhere is refused), caps on bytes, pages and time.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import orjson
import requests
import urllib3

FHIR_JSON = "application/fhir+json"

# The access token travels as `Authorization: Bearer <token>`. RFC 6749 (A.12) allows printable ASCII in a
# token, and a space would split the header's credentials, so printable ASCII without spaces is what can be
# sent intact; anything else (non-Latin-1 text made http.client raise, CR/LF, NUL) is refused before a
# request. 8 KiB is what FHIR servers' front ends accept in one header line (nginx, gunicorn).
MAX_ACCESS_TOKEN_CHARS = 8192
_SENDABLE_TOKEN = re.compile(r"[\x21-\x7e]+")


class FetchError(Exception):
    """Data could not be obtained. The message is safe to show: it never holds the token."""


class FetchTimeout(FetchError):
    """The deadline or a timeout ended the fetch."""


class CutShort(FetchError):
    """A newest-first search stopped (deadline, page cap) after some pages: what was read is in `entries`,
    the newest ones, which are what the rules read first; the message says why the rest was not."""

    def __init__(self, why: str, entries: list[dict]):
        super().__init__(why)
        self.entries = entries


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float
    read_timeout: float
    max_pages: int
    max_response_bytes: int
    page_size: int


class FhirClient:
    def __init__(self, base_url: str, access_token: str | None, session: requests.Session,
                 limits: FetchLimits, deadline: float):
        self.base_url = base_url.rstrip("/")
        self._headers = {"Accept": FHIR_JSON}
        if access_token:
            self._headers["Authorization"] = f"Bearer {access_token}"
        self._session = session
        self._limits = limits
        self._deadline = deadline  # time.monotonic() by which every fetch must be done

    def read(self, path: str, resource_type: str, resource_id: str) -> dict:
        resource = self._get(f"{self.base_url}/{path}")
        if resource.get("resourceType") != resource_type or resource.get("id") != resource_id:
            raise FetchError(f"fhirServer answered the {resource_type} read with another resource")
        return resource

    def search(self, path: str, resource_type: str, keep_partial: bool = False) -> list[dict]:
        """Every entry of the search, following Bundle.link[next] within the server and the page cap. With
        `keep_partial`, a search that runs out of time or pages after its first page raises CutShort with
        the entries read so far."""
        separator = "&" if "?" in path else "?"
        url = f"{self.base_url}/{path}{separator}_count={self._limits.page_size}"
        entries: list[dict] = []
        seen: set[str] = set()
        for _ in range(self._limits.max_pages):
            seen.add(url)
            try:
                bundle = self._get(url)
            except FetchTimeout as error:
                if keep_partial and entries:
                    raise CutShort(str(error), entries) from None
                raise
            if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "searchset" \
                    or not isinstance(bundle.get("entry", []), list) or not isinstance(bundle.get("link", []), list):
                raise FetchError(f"{resource_type} search did not return a searchset Bundle")
            page = bundle.get("entry") or []
            if any(_is_error_outcome(entry) for entry in page):
                raise FetchError(f"{resource_type} search reported an error (OperationOutcome)")
            entries.extend(page)
            url = next_link(bundle)
            if url is None:
                return entries
            if url in seen:
                raise FetchError(f"{resource_type} search paging loops back on itself")
            if not self._is_on_server(url):
                raise FetchError(f"{resource_type} search paging points outside fhirServer")
        why = f"{resource_type} search has more than {self._limits.max_pages} pages"
        if keep_partial:
            raise CutShort(why, entries)
        raise FetchError(why)

    def _is_on_server(self, url: str) -> bool:
        try:
            base, other = urlsplit(self.base_url), urlsplit(url)
        except ValueError:
            return False
        if _has_dot_segments(other.path):
            return False  # "/fhir/../other" would leave the base once the client collapses it
        # Compared as origins, not text: HAPI writes next links with the host as configured (LOCALHOST) and
        # without a default port (https://host/fhir for https://host:443/fhir).
        return _origin(other) == _origin(base) and _under(other.path, base.path.rstrip("/"))

    def _get(self, url: str) -> dict:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise FetchTimeout("fhirServer did not answer within the deadline")
        timeout = (min(self._limits.connect_timeout, remaining), min(self._limits.read_timeout, remaining))
        try:
            with self._session.get(url, headers=self._headers, timeout=timeout, allow_redirects=False,
                                   stream=True) as response:
                if response.status_code != 200:
                    raise FetchError(f"fhirServer answered {response.status_code}")
                body = _read_capped(response, self._limits.max_response_bytes, self._deadline)
        except (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError):
            # The body is read through urllib3 with the socket's timeout cut to the deadline, so a server that
            # trickles its body ends here (urllib3's ReadTimeoutError), not as a requests.Timeout.
            raise FetchTimeout("fhirServer did not answer in time") from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            if _caused_by_timeout(error):
                # A timeout while a gzip or chunked body streams reaches us wrapped (ProtocolError,
                # requests' ConnectionError around urllib3's ReadTimeoutError): it is still a timeout.
                raise FetchTimeout("fhirServer did not answer in time") from None
            raise FetchError(f"fhirServer could not be reached ({type(error).__name__})") from None
        try:
            data = orjson.loads(body)
        except (orjson.JSONDecodeError, RecursionError):
            raise FetchError("fhirServer answered with malformed JSON") from None
        if not isinstance(data, dict):
            raise FetchError("fhirServer answered with something that is not a FHIR resource")
        if data.get("resourceType") == "OperationOutcome":
            raise FetchError("fhirServer answered with an OperationOutcome")
        return data


def _read_capped(response: requests.Response, cap: int, deadline: float) -> bytes:
    """The body, refusing more than `cap` bytes or reading past the deadline. read1 returns what one
    socket read brings, so a server trickling a body cannot hold us past the deadline (iter_content
    blocks until a whole chunk has arrived, and each byte restarts the read timeout)."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise FetchError(f"fhirServer response larger than {cap} bytes")
    chunks, size = [], 0
    raw = response.raw
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchTimeout("fhirServer did not answer within the deadline")
        _set_read_timeout(raw, remaining)
        chunk = raw.read1(65536, decode_content=True)
        if not chunk:
            if raw.closed or raw.isclosed() or not raw.readable() or _exhausted(raw):
                break
            continue
        size += len(chunk)
        if size > cap:
            raise FetchError(f"fhirServer response larger than {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


_TIMEOUTS = (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)


def _caused_by_timeout(error: BaseException) -> bool:
    """Whether a timeout lies under the error: in its cause or context chain, or in its arguments (urllib3
    and requests wrap the original exception as an argument)."""
    seen, pending = set(), [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        # urllib3's NewConnectionError subclasses ConnectTimeoutError for history's sake: a refused connection.
        if isinstance(current, _TIMEOUTS) and not isinstance(current, urllib3.exceptions.NewConnectionError):
            return True
        pending += [e for e in (current.__cause__, current.__context__, *current.args) if isinstance(e, BaseException)]
    return False


def _origin(parts) -> tuple[str, str | None, int | None]:
    """(scheme, host, port) with the host lower-cased and the scheme's default port made explicit."""
    try:
        port = parts.port
    except ValueError:
        return ("", None, None)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, port if port is not None else {"https": 443, "http": 80}.get(scheme)


def _exhausted(raw) -> bool:
    fp = getattr(raw, "_fp", None)
    return fp is None or getattr(fp, "fp", None) is None


def _set_read_timeout(raw, seconds: float) -> None:
    """Shorten the socket's timeout to what is left of the deadline."""
    connection = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        sock.settimeout(max(0.01, seconds))


def _is_error_outcome(entry: object) -> bool:
    resource = entry.get("resource") if isinstance(entry, dict) else None
    if not isinstance(resource, dict) or resource.get("resourceType") != "OperationOutcome":
        return False
    return any(isinstance(issue, dict) and issue.get("severity") in ("error", "fatal")
               for issue in resource.get("issue") or [])


def _has_dot_segments(path: str) -> bool:
    segments = unquote(path).split("/")
    return any(segment in (".", "..") for segment in segments)


def next_link(bundle: dict) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None


class UnusableToken(FetchError):
    """fhirAuthorization.access_token cannot be sent as a bearer token. The message never quotes it."""


def check_access_token(token: object) -> None:
    """Refuse an access token that cannot travel intact in an Authorization header (None: no token, the
    open servers the public sandbox names)."""
    if token is None:
        return
    if not isinstance(token, str) or not token:
        raise UnusableToken("fhirAuthorization.access_token is not a non-empty string")
    if len(token) > MAX_ACCESS_TOKEN_CHARS:
        raise UnusableToken(f"fhirAuthorization.access_token is longer than {MAX_ACCESS_TOKEN_CHARS} characters")
    if not _SENDABLE_TOKEN.fullmatch(token):
        raise UnusableToken("fhirAuthorization.access_token holds characters a bearer token cannot carry "
                            "(only printable ASCII, no spaces)")


def check_server_url(url: str, allow_http: bool, allowlist: tuple[str, ...]) -> None:
    """Refuse a fhirServer that is not https (unless allowed for local testing), carries credentials in
    the URL, or is not on the allowlist (global FHIR_SERVERS plus the calling issuer's fhirServers)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # "https://[", a port out of range
        raise FetchError("fhirServer is not a valid URL") from None
    if not (parts.scheme == "https" or (allow_http and parts.scheme == "http")) or not parts.hostname \
            or parts.username or parts.password:
        raise FetchError("fhirServer is not an https URL this service may call")
    if _has_dot_segments(parts.path):
        # "/fhir/../secret" passes a "/fhir" prefix check and is fetched as "/secret" (%2e%2e too).
        raise FetchError("fhirServer must not hold '.' or '..' path segments")
    if not any(_allows(entry, parts, port) for entry in allowlist):
        raise FetchError("fhirServer is not on this service's allowlist")


def _allows(entry: str, url, port: int | None) -> bool:
    if entry == "*":
        return True
    allowed = urlsplit(entry)
    if (allowed.scheme, allowed.hostname) != (url.scheme, url.hostname):
        return False
    if allowed.port is not None and allowed.port != port:
        return False
    return _under(url.path, allowed.path.rstrip("/"))


def _under(path: str, base: str) -> bool:
    """path is base or below it ("/fhir" holds "/fhir/Patient", not "/fhirx"); an empty base holds all."""
    return not base or path == base or path.startswith(base + "/")
