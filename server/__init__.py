"""The central server: a thin Litestar shell over the pure protocol core in ``sync/``.

Settings, one store package (the only code that touches the database), one service
function per use case, the HTTP app and the ``jifen-server`` CLI.
"""
