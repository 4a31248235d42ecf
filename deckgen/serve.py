"""`deckgen preview --serve`: the preview on localhost, rebuilt whenever a source file changes.

A watcher thread (watchfiles) rebuilds the site on each change to deckgen.yaml, deckgen.lock,
cards/, templates/, note_types/ or the media folder. Every page written while serving carries its build
token; it listens on a Server-Sent Events stream, which says "reload" as soon as a newer build
is on disk. A project with errors gets a page of its located problems instead of stale cards.
"""

from __future__ import annotations

import functools
import threading
import uuid
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import click
import watchfiles

from .build import BuildOptions, prepare
from .config import CONFIG_FILE
from .lock import LOCK_FILE
from .preview import PreviewResult, check_output_dir, write_preview, write_problems_page
from .problems import Problem, ProjectError

EVENTS_PATH = "/__deckgen__/events"
KEEPALIVE_SECONDS = 15.0
SOURCE_FILES = (CONFIG_FILE, LOCK_FILE)
SOURCE_DIRS = ("cards", "templates", "note_types")
_DEFAULT_FILTER = watchfiles.DefaultFilter()


@dataclass(frozen=True)
class Rebuild:
    """One rebuild: the site that was written, or the problems shown in its place."""

    build: str
    result: PreviewResult | None
    problems: list[Problem] = field(default_factory=list)
    media: str = "media"

    @property
    def ok(self) -> bool:
        """Whether the page shows cards (not problems)."""
        return self.result is not None


def rebuild(root: Path, out_dir: Path, build: str, strict: bool = False) -> Rebuild:
    """Check and render the project and write its preview; on errors, write the problems page."""
    check_output_dir(root, out_dir)
    try:
        project = prepare(root, BuildOptions(strict=strict, jobs=1))  # jobs=1: no fork from a threaded server
    except ProjectError as exc:
        return _problems(root, out_dir, build, exc.problems)
    except Exception as exc:  # the server must outlive any failure: show it on the page
        return _problems(root, out_dir, build, [Problem(str(root), message=f"{type(exc).__name__}: {exc}")])
    return Rebuild(build, write_preview(project, out_dir, build), list(project.problems), project.config.media)


def _problems(root: Path, out_dir: Path, build: str, problems: list[Problem]) -> Rebuild:
    write_problems_page(out_dir, problems, root.resolve().name, build)
    return Rebuild(build, None, problems)


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

    def wait_for_build(self, seen: str, timeout: float) -> bool:
        """Whether a build other than `seen` is on disk, waiting up to `timeout` seconds for one."""
        with self._changed:
            self._changed.wait_for(lambda: self._published != seen or self.stopped, timeout)
            return self._published != seen and not self.stopped

    def start(self) -> Rebuild:
        """Build once, then serve and watch in background threads."""
        outcome = self.rebuild()
        self._spawn(self.httpd.serve_forever, "deckgen-preview-http")
        self._spawn(self._watch, "deckgen-preview-watch")
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
        """Rebuild after each batch of changes to the sources, until stopped."""
        for _changes in watchfiles.watch(self.root, watch_filter=self._is_source, stop_event=self._stop,
                                         raise_interrupt=False, debounce=400, step=50):
            self.rebuild()

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


class _Handler(SimpleHTTPRequestHandler):
    """Static files, never cached (they change under the page), plus the reload event stream."""

    server: _HTTPServer

    def do_GET(self) -> None:
        if urlsplit(self.path).path == EVENTS_PATH:
            self._events()
        else:
            super().do_GET()

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
