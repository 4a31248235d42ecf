"""`deckgen preview --serve`: the preview on localhost, rebuilt whenever a source file changes.

A watcher thread (watchfiles) rebuilds the site on each change to deckgen.yaml, deckgen.lock,
cards/, templates/, note_types/ or the media folder. Every page written while serving carries its build
token; it listens on a Server-Sent Events stream, which says "reload" as soon as a newer build
is on disk. A project with errors gets a page of its located problems instead of stale cards.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import uuid
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

import click
import watchfiles

from ..build.pipeline import BuildOptions, prepare
from ..project.config import CONFIG_FILE
from ..build.lock_file import LOCK_FILE
from .site import (
    CARDS_DIR, STATIC_ASSETS, PreviewResult, check_output_dir, project_title, write_preview, write_problems_page,
)
from ..problems import Problem, ProjectError
from ..safety.limits import MAX_WATCHED_FOLDERS

EVENTS_PATH = "/__deckgen__/events"
KEEPALIVE_SECONDS = 15.0
_WATCH_TICK_MS = 250  # how often the watcher wakes without a change: its first wake tells start() it is ready
SOURCE_FILES = (CONFIG_FILE, LOCK_FILE)
SOURCE_DIRS = ("cards", "templates", "note_types")
_DEFAULT_FILTER = watchfiles.DefaultFilter()
_PAGE_FILES = {"index.html", *(f"assets/{name}" for name in STATIC_ASSETS if name.endswith((".js", ".css")))}


@dataclass(frozen=True)
class Rebuild:
    """One rebuild: the site that was written, or the problems shown in its place."""

    build: str
    result: PreviewResult | None
    problems: list[Problem] = field(default_factory=list)
    media: str = "media"
    files: frozenset[str] = frozenset()  # what this build wrote: all the server will serve

    @property
    def ok(self) -> bool:
        """Whether the page shows cards (not problems)."""
        return self.result is not None


def rebuild(root: Path, out_dir: Path, build: str, strict: bool = False) -> Rebuild:
    """Check and render the project and write its preview; on errors, write the problems page."""
    try:
        check_output_dir(root, out_dir)
    except ProjectError as exc:  # e.g. the folder became a link: nothing is written, the terminal says why
        return Rebuild(build, None, exc.problems)
    try:
        project = prepare(root, BuildOptions(strict=strict, jobs=1))  # jobs=1: no fork from a threaded server
    except ProjectError as exc:
        return _problems(root, out_dir, build, exc.problems)
    except Exception as exc:  # the server must outlive any failure: show it on the page
        return _problems(root, out_dir, build, [Problem(str(root), message=f"{type(exc).__name__}: {exc}")])
    result = write_preview(project, out_dir, build)
    return Rebuild(build, result, list(project.problems), project.config.media, frozenset(result.files))


def _problems(root: Path, out_dir: Path, build: str, problems: list[Problem]) -> Rebuild:
    write_problems_page(out_dir, problems, project_title(root), build)
    return Rebuild(build, None, problems, files=frozenset({"index.html", *(f"assets/{n}" for n in STATIC_ASSETS)}))


class ServeError(click.ClickException):
    """The preview server could not start (the port is taken, say)."""


class PreviewServer:
    """The preview on 127.0.0.1: serves the site, rebuilds it on changes, tells pages to reload."""

    def __init__(self, root: Path, out_dir: Path, port: int = 8000, host: str = "127.0.0.1",
                 on_rebuild: Callable[[Rebuild], None] | None = None, strict: bool = False) -> None:
        check_output_dir(root, out_dir)
        self.root, self.out_dir, self.strict = root, out_dir, strict
        self.on_rebuild = on_rebuild
        self.last: Rebuild | None = None
        self._session = uuid.uuid4().hex[:8]
        self._count = 0
        self._published = ""
        self._building = threading.Lock()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._watching = threading.Event()  # set once the watcher's watches are in place
        self._threads: list[threading.Thread] = []
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.httpd = _HTTPServer((host, port), self)
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; try another --port, "
                             "or --port 0 for any free one") from exc

    @property
    def url(self) -> str:
        """Where the preview is served (the real port, also with --port 0)."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def build(self) -> str:
        """The token of the build that is on disk now."""
        return self._published

    @property
    def stopped(self) -> bool:
        """Whether stop() was called: event streams end, the watcher returns."""
        return self._stop.is_set()

    def rebuild(self) -> Rebuild:
        """Rebuild the site now, then tell every open page."""
        with self._building:
            self._count += 1
            outcome = rebuild(self.root, self.out_dir, f"{self._session}-{self._count}", self.strict)
            with self._changed:
                self.last, self._published = outcome, outcome.build
                self._changed.notify_all()
        if self.on_rebuild:
            self.on_rebuild(outcome)
        return outcome

    def served_file(self, name: str) -> Path | None:
        """The file for a request, if the last build wrote it and no link is on the way to it."""
        last = self.last
        if last is None or name not in last.files:
            return None
        current = self.out_dir
        if current.is_symlink():
            return None
        for part in name.split("/"):
            current = current / part
            if current.is_symlink():
                return None
        return current if current.is_file() else None

    def wait_for_build(self, seen: str, timeout: float) -> bool:
        """Whether a build other than `seen` is on disk, waiting up to `timeout` seconds for one."""
        with self._changed:
            self._changed.wait_for(lambda: self._published != seen or self.stopped, timeout)
            return self._published != seen and not self.stopped

    def start(self) -> Rebuild:
        """Watch, build once, then serve, in background threads.

        The build waits until the watches are in place: a change made at any time after it read
        the sources is then seen (a change made while the watcher was still starting was lost).
        """
        self._spawn(self._watch, "deckgen-preview-watch")
        self._watching.wait()
        outcome = self.rebuild()
        self._spawn(self.httpd.serve_forever, "deckgen-preview-http")
        return outcome

    def wait(self) -> None:
        """Block until stopped; Ctrl-C in the main thread interrupts it."""
        while not self._stop.wait(0.5):
            pass

    def stop(self) -> None:
        """Stop serving and watching, and close the open event streams."""
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        if self._threads:
            self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self) -> PreviewServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[[], Any], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _watch(self) -> None:
        """Rebuild after each batch of changes to the sources, until stopped.

        Each source folder is watched on its own, never recursively (the watcher would follow a
        link out of the project); after a rebuild that changed the folders, they are watched anew.
        """
        try:
            while not self._stop.is_set():
                folders = self.watched_folders()
                try:
                    for changes in watchfiles.watch(*folders, watch_filter=self._is_source, stop_event=self._stop,
                                                    raise_interrupt=False, debounce=400, step=50, recursive=False,
                                                    rust_timeout=_WATCH_TICK_MS, yield_on_timeout=True):
                        self._watching.set()  # the first tick, or change, comes once the watches are in place
                        if changes:
                            self.rebuild()
                            if self.watched_folders() != folders:
                                break
                except OSError:  # a folder went away between the walk and the watch: walk again
                    self._watching.set()  # (or watches cannot be had at all: serve without waiting for them)
                    self._stop.wait(0.5)
        finally:
            self._watching.set()  # never leave start() waiting, however the watcher ends

    def watched_folders(self) -> list[str]:
        """The project folder and every folder under its sources, links listed by their folder but never entered."""
        out = self.out_dir.resolve()
        found = [str(self.root)]
        for name in (*SOURCE_DIRS, self.last.media if self.last else "media"):
            top = self.root / name
            if top.is_symlink() or not top.is_dir():
                continue
            for folder, subfolders, _files in os.walk(top):  # os.walk never enters a link
                if Path(folder).resolve().is_relative_to(out):
                    subfolders.clear()
                    continue
                found.append(folder)
                if len(found) >= MAX_WATCHED_FOLDERS:
                    return found
        return found

    def _is_source(self, change: watchfiles.Change, path: str) -> bool:
        """Only what the deck is made of; never the preview's own output, nor editors' swap files."""
        if not _DEFAULT_FILTER(change, path):
            return False
        target = Path(path).resolve()
        root, out = self.root.resolve(), self.out_dir.resolve()
        if target.is_relative_to(out) or not target.is_relative_to(root):
            return False
        parts = target.relative_to(root).parts
        media = self.last.media if self.last else "media"
        dirs = {*SOURCE_DIRS, *Path(media).parts[:1]}
        return (len(parts) == 1 and parts[0] in SOURCE_FILES) or (bool(parts) and parts[0] in dirs)


class _HTTPServer(ThreadingHTTPServer):
    """Serves the preview folder; one thread per connection, so event streams do not block pages."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], preview: PreviewServer) -> None:
        self.preview = preview
        super().__init__(address, functools.partial(_Handler, directory=str(preview.out_dir)))

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away, or any other failure of one request: never a traceback on the terminal."""


# Media and card documents may never run script with the site's origin, nor load anything remote.
_SANDBOXED = "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'self' 'unsafe-inline'; sandbox"
_CARD = "sandbox allow-scripts allow-popups"
_PAGE = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
         "object-src 'none'; base-uri 'none'; form-action 'none'")


def _policy(name: str) -> str:
    """The page and its own assets; the card documents (their own policy inside, deckgen's script
    allowed by hash, on an origin of their own); everything else (media) as inert documents."""
    if name in _PAGE_FILES:
        return _PAGE
    return _CARD if name.startswith(f"{CARDS_DIR}/") else _SANDBOXED


class _Handler(SimpleHTTPRequestHandler):
    """Only the files the last build wrote, never through a link, for this host only; plus the reload stream."""

    server: _HTTPServer

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, body: bool) -> None:
        try:
            if not self._host_ok():
                self.send_error(421, "This server answers only for its own address")
                return
            path = unquote(urlsplit(self.path).path, errors="strict")
            if path == EVENTS_PATH and body:
                self._events()
                return
            self._file(path, body)
        except (BrokenPipeError, ConnectionResetError):
            return
        except (ValueError, UnicodeError, OSError):
            with contextlib.suppress(OSError):
                self.send_error(400, "Bad request")

    def _host_ok(self) -> bool:
        port = self.server.server_address[1]
        host = self.headers.get("Host", "")
        return host in {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}

    def _file(self, path: str, body: bool) -> None:
        name = path.lstrip("/") or "index.html"
        preview = self.server.preview
        target = preview.served_file(name)
        if target is None:
            self.send_error(404, "Not found")
            return
        payload = target.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(name))
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", _policy(name))
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows rebuilds, not every request."""

    def _events(self) -> None:
        """Server-Sent Events: 'reload' once a build other than the page's own is on disk."""
        seen = parse_qs(urlsplit(self.path).query).get("build", [""])[0]
        preview = self.server.preview
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            while not preview.stopped:
                if preview.wait_for_build(seen, KEEPALIVE_SECONDS):
                    self.wfile.write(f"event: reload\ndata: {preview.build}\n\n".encode())
                    self.wfile.flush()
                    return
                self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
