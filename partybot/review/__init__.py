"""The review web app for conversation logs (`partybot review`)."""
