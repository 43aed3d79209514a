"""Printable documents: an A4 page of a licence's fields with a QR that verifies it.

:func:`~wallet.documents.render.render_pdf` lays out a :class:`Document`
(title, subtitle, a table of fields, an optional annotation band, the QR and
small print) in Noto Sans SC, subset on embedding. The package is pure: it
knows nothing of licences, grants or keys; its callers fill the document.
"""

from wallet.documents.render import Document, DocumentField, render_pdf

__all__ = ["Document", "DocumentField", "render_pdf"]
