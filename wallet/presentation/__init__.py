"""Presenting a licence (亮证, showing): dynamic QR tokens and offline credentials.

Pure apart from :class:`~wallet.presentation.service.Presenter`: no tables of
its own, so no repository; the presenter reads through the licences',
claims' and activations' repositories. The offline codes themselves are
:mod:`wallet.totp` (activation, below this package, draws their seed).
"""
