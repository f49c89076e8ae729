"""First-party auditkit plugins. Each subpackage is registered through the ``auditkit`` entry-point group, exactly
as a third-party plugin is; the core never imports them by name."""
