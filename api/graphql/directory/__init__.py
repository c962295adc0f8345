"""The directory's provisioning guard: held deactivation waves, and HR's decision."""
