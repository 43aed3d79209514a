"""The backend deployable: mini-program API, authority feed and sharing endpoints."""
