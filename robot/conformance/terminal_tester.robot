*** Comments ***
Renode's keyword semantics, one behaviour per test, on the conformance firmware
(firmware/conformance: known boot lines, then a line shell). The same file passes under
`renode-test` on Renode 1.15.3 (--variable EMULATOR:robot/resources/renode.resource) and
under our keywords on QEMU (wasmbed-hil robot). Timeouts are generous: Renode counts them in
virtual time, QEMU in wall-clock time.


*** Settings ***
Documentation       Terminal tester, log tester, CPU and snapshot keywords behave alike on
...                 Renode and on our QEMU keywords.
Resource            conformance.resource
Suite Setup         Setup
Suite Teardown      Teardown
Test Setup          Create Conformance Machine
Test Teardown       Test Teardown
Test Tags           conformance


*** Test Cases ***
Lines Match In Order And Are Consumed
    [Tags]    smoke
    Wait For Line On Uart    conformance: boot
    Wait For Line On Uart    pair: alpha=1
    Run Keyword And Expect Error    *Terminal tester failed!*
    ...    Wait For Line On Uart    conformance: boot    timeout=1

A Failed Wait Consumes Nothing
    Run Keyword And Expect Error    *Terminal tester failed!*
    ...    Wait For Line On Uart    no such line    timeout=1
    Wait For Line On Uart    conformance: boot

Regex Groups, Unmatched Ones Empty
    # Renode takes any argument starting `word=` as a named argument (Keyword.cs), even a
    # positional pattern such as `alpha=(\\d)`: the pattern starts at `pair:`
    ${r}=    Wait For Line On Uart    pair: alpha\=(\\d) beta\=(\\d)( gamma\=(\\d))?    treatAsRegex=true
    Should Be Equal    ${r.groups}[0]    1
    Should Be Equal    ${r.groups}[1]    2
    Should Be Equal    ${r.groups}[2]    ${EMPTY}
    Should Contain    ${r.line}    pair: alpha=1 beta=2

Colour Codes Are Stripped Before Matching
    ${r}=    Wait For Line On Uart    colour: green text
    Should Be Equal    ${r.line}    colour: green text

NUL Bytes Do Not Reach The Result
    ${r}=    Wait For Line On Uart    nul: a
    Should Be Equal    ${r.line}    nul: ab

A Prompt Matches On An Unfinished Line
    Wait For Prompt On Uart    >
    Write Line To Uart    ping
    Wait For Line On Uart    pong

Next Line And Match Next Line
    Wait For Prompt On Uart    >
    Write Line To Uart    count 3
    # the echo wait consumed the line up to the echoed text: what is left of it is next
    ${rest}=    Wait For Next Line On Uart
    Should Be Equal    ${rest.line}    ${EMPTY}
    ${r}=    Wait For Next Line On Uart
    Should Be Equal    ${r.line}    count 1
    Run Keyword And Expect Error    *Terminal tester failed!*
    ...    Wait For Line On Uart    count 3    timeout=1    matchNextLine=true
    Wait For Line On Uart    count 2    matchNextLine=true
    Wait For Line On Uart    count 3    matchNextLine=true

Should Not Be On Uart
    Wait For Prompt On Uart    >
    Should Not Be On Uart    pong    timeout=1
    Write Line To Uart    ping
    Run Keyword And Expect Error    *Unexpected entry*
    ...    Should Not Be On Uart    pong    timeout=5

Write Line Waits For The Echo, Even Of Nothing
    Wait For Prompt On Uart    >
    Write Line To Uart    say hello
    Wait For Line On Uart    hello
    Wait For Prompt On Uart    >
    Write Line To Uart
    Wait For Prompt On Uart    >
    Write Line To Uart    quiet    waitForEcho=false
    Wait For Prompt On Uart    >

Characters And Keys
    Wait For Prompt On Uart    >
    Write Char On Uart    p
    Write Char On Uart    i
    Write Char On Uart    n
    Write Char On Uart    g
    Send Key To Uart    0x0D
    Wait For Line On Uart    pong

An Idle Uart And A Busy One
    # the whole prompt, its space too: a character after the wait began is not idle
    Wait For Prompt On Uart    >${SPACE}
    Test If Uart Is Idle    1
    Write Line To Uart    tick 30
    Run Keyword And Expect Error    *Terminal tester failed!*
    ...    Test If Uart Is Idle    2

Tester Ids And The Default Tester
    ${id}=    Create Terminal Tester    ${CONSOLE_UART}
    Should Be Equal As Integers    ${id}    0
    Run Keyword And Expect Error    *Tester #5 was not found*    Set Default Tester    5
    Set Default Tester    0
    Set Default Tester    ${None}
    Run Keyword And Expect Error    *Tester for given ID=5 was not found*
    ...    Wait For Line On Uart    boot    testerId=5
    Wait For Line On Uart    conformance: boot    testerId=0

The Report Shows What Was Seen
    # cleared first: the boot lines hold a NUL byte, which Renode's XML-RPC cannot carry
    Wait For Prompt On Uart    >
    Clear Terminal Tester Report
    Write Line To Uart    ping
    Wait For Line On Uart    pong
    ${report}=    Get Terminal Tester Report
    Should Contain    ${report}    pong

The Log Tester Sees The Emulator Log
    Create Log Tester    10
    Wait For Line On Uart    conformance: ready
    Wait For Log Entry    Machine started.
    Wait For Prompt On Uart    >
    Write Line To Uart    probe
    Wait For Line On Uart    probed
    Wait For Log Entry    (?i)0x5FFFFFF4    treatAsRegex=true
    Should Not Be In Log    (?i)0x5FFFFFF4    timeout=1    treatAsRegex=true
    Run Keyword And Expect Error    *did not appear in the log*
    ...    Wait For Log Entry    nothing like this    timeout=1

Program Counter And Registers
    Wait For Prompt On Uart    >
    Execute Command    pause
    ${pc}=    Execute Command    sysbus.cpu PC
    Pc Should Be Equal    ${pc.strip()}
    Register Should Be Equal    15    ${pc.strip()}
    Run Keyword And Expect Error    *PC value assertion failed*    Pc Should Be Equal    0x4

A Snapshot Is Provided
    Wait For Prompt On Uart    >
    Write Line To Uart    say before the snapshot
    Wait For Line On Uart    before the snapshot
    Wait For Prompt On Uart    >
    Provides    at-the-prompt

A Test Starts From The Snapshot
    Requires    at-the-prompt
    Write Line To Uart    ping
    Wait For Line On Uart    pong
    Should Not Be On Uart    conformance: boot    timeout=1
