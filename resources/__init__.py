"""App assets (icons, stylesheets), installed as ``conference_gui.assets``."""
