// placeholder: icarus tests
