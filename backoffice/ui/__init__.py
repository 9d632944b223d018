"""The back-office's UI kit: form fields, paging, template helpers.

Features import it; it imports no feature (an import-linter contract).
"""
