"""Operating a deployment: the doctor's checks, backups and their restore drill."""
