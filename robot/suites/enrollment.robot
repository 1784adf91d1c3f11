*** Settings ***
Documentation       Enrollment over mutual TLS 1.3: the real firmware on an emulated board,
...                 and virtual devices, enroll with the gateway and stay connected.
Resource            ../resources/wasmbed.resource
Suite Setup         Start Suite
Suite Teardown      Stop Suite
Test Teardown       End Test


*** Test Cases ***
Board Boots, Enrolls And Connects
    [Tags]    board    smoke
    Create Board    fw-enroll
    Start Emulation
    ${boot}=    Wait For Line On Uart    wasmbed: boot firmware=(\\S+) board=(\\S+)    treatAsRegex=true
    Should Be Equal    ${boot.groups}[1]    ${BOARD}
    Wait For Line On Uart    wasmbed: tls connected TLSv1.3
    Wait For Line On Uart    wasmbed: enrolled id=fw-enroll
    Wait For Line On Uart    wasmbed: connected id=fw-enroll
    Device Should Be Connected    fw-enroll

Board Reconnects After A Reset With Its Stored Certificate
    [Tags]    board
    Start Connected Board    fw-reset
    Execute Command    machine Reset
    Wait For Line On Uart    wasmbed: boot
    Should Not Be On Uart    wasmbed: enrolled    timeout=1
    Wait For Line On Uart    wasmbed: connected id=fw-reset
    Device Should Be Connected    fw-reset

Virtual Device Enrolls And Connects
    [Tags]    virtual    smoke
    Create Device    vdev-1    tier=edge
    Enroll Device    vdev-1
    Device Should Be Connected    vdev-1
