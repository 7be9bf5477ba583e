// placeholder: area tests
