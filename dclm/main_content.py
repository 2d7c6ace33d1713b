"""Main-content extraction for the default (resiliparse) extractor."""
from __future__ import annotations

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree


def extract_main_content(html: str) -> str:
    """Main text of an HTML page, one block per line."""
    tree = HTMLTree.parse(html)
    return extract_plain_text(tree, main_content=True, preserve_formatting=True,
                              list_bullets=False, alt_texts=False)
