// placeholder: calibration tests
