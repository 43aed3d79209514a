"""Activation (激活, activation): binding a claimed licence to one device."""
