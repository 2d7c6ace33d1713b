"""HTML bytes to text: charset decoding, main-content extraction, boilerplate lines, and a time-limited page
worker for hostile pages."""
