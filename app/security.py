"""Response headers that every page carries."""
from flask import request

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def init_app(app) -> None:
    @app.after_request
    def _headers(resp):
        h = resp.headers
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "DENY"
        h["Referrer-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        if app.config["PRODUCTION"]:
            h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        # Pages and downloads may hold personal data: no cache keeps them. Static files are
        # versioned by name and may be cached.
        if not request.path.startswith("/static/"):
            h["Cache-Control"] = "no-store"
        return resp
