"""The HTTP layer: discovery, service invocation, feedback, health; trust and CORS around them."""
