"""Pitch documents as PDF: Markdown -> HTML (markdown-it, raw HTML disabled) -> PDF (fpdf2)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from markdown_it import MarkdownIt

# A Unicode TrueType font where the system has one; otherwise the PDF core fonts (Latin-1).
_UNICODE_FONTS = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/Library/Fonts/Arial Unicode.ttf"),
]
_TYPOGRAPHY = str.maketrans(
    {"\u2014": "-", "\u2013": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
     "\u2026": "...", "\u00a0": " ", "\u2022": "-"}
)
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def _unicode_font() -> Path | None:
    return next((path for path in _UNICODE_FONTS if path.exists()), None)


def markdown_to_pdf(markdown: str, *, title: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Agente Films")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    font = _unicode_font()
    if font is not None:
        pdf.add_font("body", "", str(font))
        bold = font.with_name(font.stem + "-Bold.ttf")
        pdf.add_font("body", "B", str(bold if bold.exists() else font))
        italic = font.with_name(font.stem + "-Oblique.ttf")
        pdf.add_font("body", "I", str(italic if italic.exists() else font))
        pdf.add_font("body", "BI", str(bold if bold.exists() else font))
        pdf.set_font("body", size=11)
        text = markdown
    else:
        pdf.set_font("helvetica", size=11)
        text = markdown.translate(_TYPOGRAPHY).encode("latin-1", "replace").decode("latin-1")
    pdf.write_html(_markdown.render(text))
    return bytes(pdf.output())
