"""Authority users of the web console: accounts, sessions, CSRF tokens."""
