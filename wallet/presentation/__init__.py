"""Presenting a licence (亮证, showing): dynamic QR tokens, offline credentials, prints.

Pure apart from :class:`~wallet.presentation.service.Presenter` and
:class:`~wallet.presentation.printable.Printables` (the printable credential:
an ``rtel-print`` QR on a PDF page): no tables of its own, so no repository;
they read through the licences', claims' and activations' repositories. The
offline codes themselves are :mod:`wallet.totp` (activation, below this
package, draws their seed).
"""
