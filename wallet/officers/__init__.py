"""Enforcement officers (执法人员, inspectors): accounts, sign-in and roles."""
