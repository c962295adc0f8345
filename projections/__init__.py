"""The read side: events turned into SQL read models, and the queries over them; imports
only the domain."""
