"""End-to-end tests: real ``streamlit run`` servers driven by real chromium via Playwright.

Import helpers relatively (``from .helpers import text_input``) so the imports keep
working whether or not ``tests/`` itself becomes a package.
"""
