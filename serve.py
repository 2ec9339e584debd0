"""Serve Shift Lab: the Streamlit app (app.py) and the route its drag canvas sends a drag to
(ui/drag_route.py). `make run` starts it with `streamlit run serve.py`, which finds `app` below."""

import streamlit as st

from ui.drag_route import drag_routes

app = st.App("app.py", routes=drag_routes())
