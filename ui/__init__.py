"""The Streamlit user interface: presentation and interaction only (measurements live in probes/)."""
