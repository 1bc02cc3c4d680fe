"""The officials' and admins' web app (server-rendered, in Dutch) and the JSON API."""
