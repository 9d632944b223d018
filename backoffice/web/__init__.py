"""The app as the web sees it: the input guard and retries (outermost), the reverse
proxy's corrections and the security headers."""


def includeme(config) -> None:
    config.include("backoffice.web.input")
    config.include("backoffice.web.proxy")
    config.include("backoffice.web.headers")
