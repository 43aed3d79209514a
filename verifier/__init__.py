"""The verifier deployable: officer sign-in, QR verification, trust and status lists."""
