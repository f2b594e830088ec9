"""What every layer shares and that is not text: the error types. Imports nothing of the project."""
