"""The kiosk: records points transactions offline, syncs signed batches to the server.

``service.KioskService`` is the headless core the CLI, the Textual app and the tests call;
``store`` is the only module that opens the database and ``client`` the only one that
touches the network.
"""

__version__ = "0.1.0"
