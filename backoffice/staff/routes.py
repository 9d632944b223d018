"""Every route of staff accounts (``staff.*``)."""


def includeme(config) -> None:
    config.add_route("staff.login", "/admin/login")
    config.add_route("staff.logout", "/admin/logout")
    config.add_route("staff.profile", "/admin/profile")
    config.add_route("staff.language", "/admin/profile/language")
    config.add_route("staff.list", "/admin/staff")
    config.add_route("staff.new", "/admin/staff/new")
    config.add_route("staff.edit", "/admin/staff/{id:\\d+}")
