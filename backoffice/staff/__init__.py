"""Staff accounts: sign-in/out, one's own profile and language, the owner's staff pages."""


def includeme(config) -> None:
    config.include("backoffice.staff.routes")
