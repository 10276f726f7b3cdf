"""The only resources a template may load: files under templates/assets/ and data: URLs.

Everything else (http:, other files, ../ escapes) stops the render: an invoice never depends
on the network or on files outside the project's own template folder."""
from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlparse

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

ASSETS_DIR = (Path(__file__).parent / "templates" / "assets").resolve()


class LocalAssetsOnly(URLFetcher):
    def __init__(self, assets_dir: Path = ASSETS_DIR):
        super().__init__(allowed_protocols={"file", "data"}, fail_on_errors=True)
        self.assets_dir = assets_dir.resolve()

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        parsed = urlparse(url)
        if parsed.scheme == "data":
            return super().fetch(url, headers)
        if parsed.scheme != "file":
            raise FatalURLFetchingError(f"invoice templates may not load {url!r}")
        path = Path(unquote(parsed.path)).resolve()
        if not path.is_relative_to(self.assets_dir) or not path.is_file():
            raise FatalURLFetchingError(
                f"invoice templates may only load files under {self.assets_dir} (not {path})")
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime_type})
