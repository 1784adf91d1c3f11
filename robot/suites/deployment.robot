*** Settings ***
Documentation       Deploying WebAssembly: a C app compiled to wasm runs on the real firmware
...                 and reports its output; a bundled example runs on a virtual device.
Resource            ../resources/wasmbed.resource
Suite Setup         Start Suite
Suite Teardown      Stop Suite
Test Teardown       End Test


*** Test Cases ***
C App Runs On The Board And Reports Output
    [Tags]    board    smoke
    Start Connected Board    fw-deploy
    Deploy Application    hello    app:hello    fw-deploy
    Wait For Line On Uart    wasmbed: app hello@\\d+ running    treatAsRegex=true
    Application Phase On Device Should Be    hello    fw-deploy    Completed    timeout=60
    Application Output Should Contain    hello    fw-deploy    hello

Long Running App Is Running Then Stopped
    [Tags]    board
    Start Connected Board    fw-counter
    Deploy Application    counter    app:counter    fw-counter
    Application Should Be Running On    counter    fw-counter    timeout=60
    Stop Application    counter
    Application Phase On Device Should Be    counter    fw-counter    Stopped    timeout=60

Example Runs On A Virtual Device
    [Tags]    virtual    smoke
    Create Device    vdev-deploy
    Enroll Device    vdev-deploy
    Device Should Be Connected    vdev-deploy
    Deploy Application    hello-v    hello    vdev-deploy
    Application Phase On Device Should Be    hello-v    vdev-deploy    Completed
    Application Output Should Contain    hello-v    vdev-deploy    hello from wasm
