"""The kiosk app's screens: thin views over ``kiosk.service.KioskService``, one concern
per module."""
