"""Holder accounts: WeChat sign-in, sessions, real-name binding and the binding transport key."""
