"""One file per migration, each naming its predecessor (`down_revision`)."""
