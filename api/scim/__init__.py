"""SCIM 2.0 provisioning of the people directory (RFC 7643/7644)."""
