"""The one failure a model can have in the drag view: it cannot be had here, for a reason a user can read."""


class ModelUnavailable(Exception):
    """A model that cannot be loaded; str(exc) says what happened and what to do, in plain words (no exception
    name, errno or server path: those go to the log where the cause is caught). It is raised with `Words`
    (scene.words), so that the reason, kept in a cache every session shares, is translated where it is shown
    (`scene.words.said` gives them back)."""
