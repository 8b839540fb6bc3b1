"""mnist-desktop: the application. Qt lives only in this package, and only in its widget modules."""
