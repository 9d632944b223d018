"""Staff authentication and authorisation for the back-office.

``backoffice.security.web`` wires it into Pyramid; ``roles`` documents who may
do what; ``passwords`` hashes with argon2id. This package imports nothing at
import time so the store schema can use ``passwords`` without the web stack.
"""
